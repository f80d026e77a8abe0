import { definePipeline } from '../../../src/index.ts';

export default definePipeline({ id: 'hang-neighbour-d' }).step('only', async () => ({ ok: true }));

import { definePipeline } from '../../../src/index.ts';

export default definePipeline({ id: 'hang-neighbour-a' }).step('only', async () => ({ ok: true }));

import { definePipeline } from '../../../src/index.ts';

// Same id as a-good.ts: the first file (in name order) wins, this one is reported.
export default definePipeline({ id: 'sec-good' }).step('other', async () => ({ ok: true }));

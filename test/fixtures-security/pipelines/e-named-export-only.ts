import { definePipeline } from '../../../src/index.ts';

// Forgot `default`.
export const pipeline = definePipeline({ id: 'sec-named' }).step('a', async () => ({ ok: true }));

import { definePipeline } from '../../../src/index.ts';

// A top-level await on a promise nobody resolves: the import never finishes.
await new Promise<void>(() => {});

export default definePipeline({ id: 'never-loaded' }).step('only', async () => ({ ok: true }));

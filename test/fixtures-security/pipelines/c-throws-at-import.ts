import { definePipeline } from '../../../src/index.ts';

// Fails while the module is evaluated, e.g. a missing config file read at the top level.
const settings: { threshold: number } | undefined = undefined;
if (!settings) throw new Error('settings.json could not be read at import time');

export default definePipeline({ id: 'sec-throws' }).step('a', async () => ({ ok: true }));

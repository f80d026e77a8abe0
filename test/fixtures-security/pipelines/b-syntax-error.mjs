// A pipeline file with a syntax error (.mjs so the repository's type-check skips it).
import { definePipeline } from '../../../src/index.ts';

export default definePipeline({ id: 'sec-syntax' })
  .step('a', async () => ({ ok: true }) ;

import { definePipeline } from '../../../src/index.ts';

export default definePipeline({ id: 'sec-self' })
  .step('a', async () => ({ ok: true }))
  // @ts-expect-error — a step cannot need itself; the builder refuses it at import time.
  .step('b', { needs: ['b'] }, async () => ({ ok: true }));

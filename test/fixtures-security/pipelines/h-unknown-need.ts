import { definePipeline } from '../../../src/index.ts';

export default definePipeline({ id: 'sec-unknown' })
  .step('load', async () => ({ ok: true }))
  // @ts-expect-error — "prep" does not exist; the builder refuses it at import time.
  .step('train', { needs: ['prep'] }, async () => ({ ok: true }));

import { z } from 'zod';
import { definePipeline } from '../../../src/index.ts';

/** The one valid pipeline of this folder: the others must not stop it from loading. */
export default definePipeline({ id: 'sec-good', params: z.object({ epochs: z.number().int().min(1).default(3), lr: z.number().default(0.1) }) })
  .step('train', async ({ params }) => ({ epochs: params.epochs }));

import { performance } from 'node:perf_hooks';
import { FlowProducer, Queue, Worker, type FlowJob } from 'bullmq';
import { connection, withQueue } from './raw-bullmq.ts';

/**
 * BullMQ's own flows (FlowProducer): the shapes a tree of jobs can express. A parent job runs once all
 * its children completed, so the wide shape is one parent with `n` children (the fan-in is the parent;
 * there is no fan-out step before the children) and the chain is a tree nested `depth` deep whose
 * leaf runs first. Job options as in the engine's baseline: removeOnComplete.
 */

/** Waits for the `completed` event of the job named `last`; times from before the flow is added. */
async function runFlow(url: string, concurrency: number, build: (queueName: string) => FlowJob, last: string): Promise<number> {
  return withQueue(url, async (name, prefix, client) => {
    const flows = new FlowProducer({ connection: client, prefix });
    const workerClient = connection(url);
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    const worker = new Worker(name, async () => null, { connection: workerClient, prefix, concurrency, autorun: false });
    worker.on('completed', (job) => {
      if (job.name === last) resolveDone();
    });
    void worker.run();
    await worker.waitUntilReady();
    const t0 = performance.now();
    await flows.add(build(name));
    await done;
    const ms = performance.now() - t0;
    await worker.close();
    workerClient.disconnect();
    const queue = new Queue(name, { connection: client, prefix });
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
    await flows.close();
    return ms;
  });
}

/** One parent with `n` children: jobs/s over the n + 1 jobs. */
export async function flowsWide(url: string, n: number, concurrency: number): Promise<{ jobsPerSec: number; ms: number }> {
  const ms = await runFlow(
    url,
    concurrency,
    (queueName) => ({
      name: 'join', queueName, opts: { removeOnComplete: true },
      children: Array.from({ length: n }, (_, i) => ({ name: 'noop', queueName, data: { i }, opts: { removeOnComplete: true } })),
    }),
    'join',
  );
  return { jobsPerSec: ((n + 1) / ms) * 1000, ms };
}

/** A tree nested `depth` deep (each job the only child of the one above): hops/s. */
export async function flowsChain(url: string, depth: number, concurrency: number): Promise<{ hopsPerSec: number; ms: number }> {
  const ms = await runFlow(
    url,
    concurrency,
    (queueName) => {
      let node: FlowJob = { name: `h${depth - 1}`, queueName, opts: { removeOnComplete: true } };
      for (let i = depth - 2; i >= 0; i--) node = { name: i === 0 ? 'root' : `h${i}`, queueName, opts: { removeOnComplete: true }, children: [node] };
      return node;
    },
    'root',
  );
  return { hopsPerSec: (depth / ms) * 1000, ms };
}

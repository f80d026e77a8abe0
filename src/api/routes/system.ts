import type { ApiContext } from '../context.ts';
import { defineRoute, type RouteDef } from '../route.ts';
import { queueListSchema, workerListSchema } from '../schemas.ts';

export function systemRoutes(ctx: ApiContext): RouteDef[] {
  const { runtime } = ctx;
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/queues',
      operationId: 'listQueues',
      summary: 'Depth of each queue (waiting, active, delayed, failed) and the age of its oldest waiting job',
      tag: 'system',
      responses: { 200: { description: 'queues', schema: queueListSchema } },
      async handler() {
        const workers = await runtime.liveWorkers();
        const names = new Set([...ctx.knownQueues(), ...workers.flatMap((w) => w.queues)]);
        const now = Date.now();
        const items = await Promise.all(
          [...names].sort().map(async (name) => {
            const [counts, oldest] = await Promise.all([runtime.queues.counts(name), runtime.queues.oldestWaitingAgeMs(name, now)]);
            return {
              name,
              waiting: counts.wait ?? 0,
              active: counts.active ?? 0,
              delayed: counts.delayed ?? 0,
              failed: counts.failed ?? 0,
              prioritized: counts.prioritized ?? 0,
              oldestWaitingAgeMs: oldest,
            };
          }),
        );
        return { items };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/workers',
      operationId: 'listWorkers',
      summary: 'Workers that sent a heartbeat recently: queues served, pipelines loaded, steps running',
      tag: 'system',
      responses: { 200: { description: 'workers', schema: workerListSchema } },
      async handler() {
        const items = await runtime.liveWorkers();
        return { items: items.sort((a, b) => a.id.localeCompare(b.id)) };
      },
    }),
  ];
}

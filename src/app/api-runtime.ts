import type { ApiRuntime } from '../api/context.ts';
import { RedisRunEventFeed } from '../redis/run-event-feed.ts';
import type { Runtime } from './runtime.ts';

/**
 * The API's narrow view of a runtime: the engine, artifacts, queue sizes, workers, the run event
 * feed (its own subscriber connection, closed with the runtime) and a ping. Built here, in the
 * composition root, so api/ never sees a Redis client, the key space or the store.
 */
export function apiRuntimeOf(runtime: Runtime): ApiRuntime {
  return {
    config: runtime.config,
    logger: runtime.logger,
    engine: runtime.engine,
    artifacts: runtime.store.artifacts,
    logs: { read: (runId, page) => runtime.engine.readLogs(runId, page) },
    queues: runtime.queues,
    events: new RedisRunEventFeed(runtime.extraClient(), runtime.keys.eventsChannel, runtime.logger),
    liveWorkers: () => runtime.liveWorkers(),
    ping: async () => {
      await runtime.redis.ping();
    },
  };
}

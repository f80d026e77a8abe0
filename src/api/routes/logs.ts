import { z } from 'zod';
import { stepSelected } from '../../core/ids.ts';
import { TERMINAL_RUN_STATUSES, type LogEntry, type RunStatus } from '../../domain/run-state.ts';
import type { ApiContext } from '../context.ts';
import { defineRoute, type RouteDef } from '../route.ts';
import { errorSchema, logPageSchema, logsQuery, runPath } from '../schemas.ts';

/** How often an open stream looks for new log lines and sends a keep-alive comment. */
const LOG_POLL_MS = 1_000;
const HEARTBEAT_MS = 15_000;
const LOG_BATCH = 500;

const eventsQuery = z.object({ logOffset: z.coerce.number().int().min(0).default(0) });

export function logRoutes(ctx: ApiContext): RouteDef[] {
  const { engine, logs } = ctx.runtime;
  const readLogs = async (runId: string, offset: number, limit: number) => {
    const entries = await logs.read(runId, { offset, limit });
    return entries.map((entry, i) => ({ ...ctx.redact(entry), index: offset + i }));
  };
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/runs/:runId/logs',
      operationId: 'getRunLogs',
      summary: 'Structured log lines of a run, paged by offset (optionally only one step)',
      tag: 'logs',
      params: runPath,
      query: logsQuery,
      responses: { 200: { description: 'a page of log lines', schema: logPageSchema }, 404: { description: 'no such run', schema: errorSchema } },
      async handler({ params, query }) {
        await engine.getRun(params.runId);
        const page = await readLogs(params.runId, query.offset, query.limit);
        return {
          runId: params.runId,
          offset: query.offset,
          nextOffset: query.offset + page.length,
          // A map step selects its items' lines too, as `conveyor logs --step` does.
          entries: page.filter((e) => stepSelected(e.step, query.step)),
        };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/runs/:runId/events',
      operationId: 'streamRunEvents',
      summary:
        'Server-Sent Events for one run: `run` (the whole RunView, on connect and after each change), `step` ({step, status}), `log` ({entries} from logOffset on), `end` once the run finished',
      tag: 'logs',
      params: runPath,
      query: eventsQuery,
      responses: { 200: { description: 'text/event-stream', contentType: 'text/event-stream' }, 404: { description: 'no such run', schema: errorSchema } },
      async handler({ params, query, request, reply }) {
        const runId = params.runId;
        await engine.getRun(runId); // 404 before the stream starts
        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
        });
        let closed = false;
        let logOffset = query.logOffset;
        const send = (event: string, data: unknown, id?: number) => {
          if (closed) return;
          res.write(`${id !== undefined ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
        };
        // Log reads are chained: the 1 s poll and a refresh may both ask, and two reads from the same
        // offset would send one batch twice and then skip the next.
        let logChain: Promise<void> = Promise.resolve();
        const flushLogs = (): Promise<void> => {
          logChain = logChain.then(async () => {
            for (;;) {
              const entries: Array<LogEntry & { index: number }> = await readLogs(runId, logOffset, LOG_BATCH);
              if (entries.length === 0 || closed) return;
              logOffset += entries.length;
              send('log', { entries }, logOffset);
              if (entries.length < LOG_BATCH) return;
            }
          });
          return logChain;
        };
        // Live step events wait here until the first `run` snapshot is sent: a client always sees `run` first.
        let held: unknown[] | undefined = [];
        // Refreshes coalesce: events arriving while a refresh runs cause exactly one more.
        let busy = false;
        let again = false;
        const refresh = async (): Promise<void> => {
          if (busy) {
            again = true;
            return;
          }
          busy = true;
          try {
            do {
              again = false;
              const view = ctx.redact(await engine.getRun(runId));
              send('run', view);
              if (held) {
                // The first snapshot is out: now the step events that arrived meanwhile, in order.
                const pending = held;
                held = undefined;
                for (const event of pending) send('step', event);
              }
              await flushLogs();
              if (TERMINAL_RUN_STATUSES.has(view.status as RunStatus)) {
                send('end', { status: view.status });
                close();
                return;
              }
            } while (again && !closed);
          } catch (error) {
            send('error', { message: error instanceof Error ? error.message : String(error) });
          } finally {
            busy = false;
          }
        };
        // Closing is wired before anything is awaited: a client gone while the subscription is being
        // made must not leave the subscription and the poll running until the run ends.
        let unsubscribe: (() => void) | undefined;
        let timer: ReturnType<typeof setInterval> | undefined;
        function close() {
          if (closed) return;
          closed = true;
          if (timer) clearInterval(timer);
          unsubscribe?.();
          res.end();
        }
        request.raw.on('close', close);
        res.on('close', close);
        // A client that left while the run was looked up closed its socket before these listeners existed.
        const gone = () => res.destroyed || (request.raw.socket?.destroyed ?? false);
        if (gone()) close();
        // Subscribe before the first snapshot (so nothing between them is lost), but hold live step
        // events until that snapshot is out: a client always sees `run` first.
        const off = await ctx.events.subscribe(runId, (event) => {
          if (held) held.push(event);
          else send('step', event);
          void refresh();
        });
        if (closed || gone()) {
          off();
          close();
          return undefined;
        }
        unsubscribe = off;
        let lastWrite = Date.now();
        timer = setInterval(() => {
          void flushLogs().catch(() => {});
          if (Date.now() - lastWrite >= HEARTBEAT_MS) {
            lastWrite = Date.now();
            if (!closed) res.write(': keep-alive\n\n');
          }
        }, LOG_POLL_MS);
        await refresh();
        return undefined;
      },
    }),
  ];
}

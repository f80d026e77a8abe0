import type { RunIndexBucket } from '../redis/keys.ts';
import type { RunRecord, RunStatus } from '../domain/run-state.ts';
import type { RunStore } from '../redis/run-store.ts';

export interface RunQuery {
  pipeline?: string;
  status?: RunStatus;
  /** Trigger type: manual, schedule, event, retry. */
  trigger?: string;
  /** Created at or after (ms). */
  from?: number;
  /** Created at or before (ms). */
  to?: number;
  /** One run by id (the other filters still apply). */
  id?: string;
  /** Runs whose id starts with this (the other filters still apply); ids in reverse byte order. */
  idPrefix?: string;
  limit?: number;
  /** Position in the index the query reads (a `nextOffset` from the previous page). */
  offset?: number;
}

export interface RunPage {
  runs: RunRecord[];
  /** Where the next page starts, or null when the index has nothing more to read. */
  nextOffset: number | null;
}

/**
 * Entries of the index one call reads at most when filters are checked on the records (queued vs
 * running within the `active` bucket, trigger type): a page may then come back short with a
 * nextOffset, and the caller pages on. Keeps one request's cost bounded at any history size.
 */
const MAX_SCANNED = 2_000;

/**
 * Runs matching every filter, newest first. Status and pipeline pick an index (every run is in the
 * time index, its pipeline's, and one status bucket's, each scored by creation time), the date range
 * is a score range of it, so those filters are exact and cost what the page costs. Offsets are
 * positions in that index.
 */
export async function findRuns(store: RunStore, query: RunQuery): Promise<RunPage> {
  const limit = query.limit ?? 20;
  const matches = (run: RunRecord) =>
    (!query.pipeline || run.pipeline === query.pipeline) &&
    (!query.status || run.status === query.status) &&
    (!query.trigger || run.trigger.type === query.trigger) &&
    (!query.idPrefix || run.id.startsWith(query.idPrefix)) &&
    (query.from === undefined || run.createdAt >= query.from) &&
    (query.to === undefined || run.createdAt <= query.to);
  if (query.id !== undefined) {
    const [run] = await store.getRuns([query.id]);
    return { runs: run && matches(run) ? [run] : [], nextOffset: null };
  }
  const bucket = bucketOf(query.status);
  // The index answers pipeline, final status and dates exactly; anything else is checked per record.
  // An id prefix reads the id index instead, and then every other filter is checked per record.
  const byPrefix = query.idPrefix !== undefined;
  const checkedPerRecord = byPrefix || query.trigger !== undefined || bucket === 'active';
  const pageSize = checkedPerRecord ? Math.max(limit, 200) : limit;
  const runs: RunRecord[] = [];
  let offset = query.offset ?? 0;
  let scanned = 0;
  while (runs.length < limit && scanned < MAX_SCANNED) {
    const ids = byPrefix
      ? await store.runIdsByPrefix(query.idPrefix!, offset, pageSize)
      : await store.rangeRunIds({ pipeline: query.pipeline, bucket, from: query.from, to: query.to, offset, count: pageSize });
    const records = new Map((await store.getRuns(ids)).map((r) => [r.id, r]));
    for (const id of ids) {
      offset++;
      scanned++;
      const run = records.get(id);
      if (run && matches(run)) runs.push(run);
      if (runs.length === limit) return { runs, nextOffset: offset };
    }
    if (ids.length < pageSize) return { runs, nextOffset: null };
  }
  return { runs, nextOffset: offset };
}

function bucketOf(status: RunStatus | undefined): RunIndexBucket | undefined {
  if (status === undefined) return undefined;
  return status === 'queued' || status === 'running' ? 'active' : status;
}

import type { RunRecord, StepStatus } from '../domain/run-state.ts';
import { stepStatusFromLetter } from '../domain/run-state.ts';
import type { RunStore } from '../redis/run-store.ts';

/** One run of a pipeline's history: its record and the status of each of its steps. */
export interface HistoryRun {
  record: RunRecord;
  /** Step name → status; map instances (`step[i]`) are left out, their step stands for them. */
  steps: Record<string, StepStatus>;
}

/** The most runs one history request reads: its cost is 1 + 2 × limit Redis commands, whatever the history size. */
export const MAX_HISTORY_RUNS = 100;

/**
 * The newest `limit` runs of a pipeline with their step statuses, newest first. Reads the pipeline's
 * run index (a range of it, never a scan), then the record and the step-status hash of each run.
 */
export async function pipelineHistory(store: RunStore, pipeline: string, limit: number): Promise<HistoryRun[]> {
  const count = Math.min(Math.max(1, limit), MAX_HISTORY_RUNS);
  const ids = await store.rangeRunIds({ pipeline, offset: 0, count });
  const [records, letters] = await Promise.all([store.getRuns(ids), Promise.all(ids.map((id) => store.stepStatusLetters(id)))]);
  const lettersById = new Map(ids.map((id, i) => [id, letters[i]]));
  return records.map((record) => ({
    record,
    steps: Object.fromEntries(
      Object.entries(lettersById.get(record.id) ?? {})
        .filter(([name]) => !name.endsWith(']'))
        .map(([name, letter]) => [name, stepStatusFromLetter(letter)]),
    ),
  }));
}

// Pure helpers of the run page (no DOM): map summaries, display statuses, attempts, stack folding.
// Unit-tested in test/ui/run-model.test.ts.

const INSTANCE = /^(.+)\[(\d+)\]$/;

/** `step[3]` → { base: 'step', index: 3 }; undefined for plain steps (same rule as engine/snapshot.ts). */
export function parseInstance(name) {
  const m = INSTANCE.exec(name);
  return m ? { base: m[1], index: Number(m[2]) } : undefined;
}

/**
 * Splits run.steps into the steps of the DAG and, per map step, its instances: the page draws one
 * row per DAG step and folds a map's items into it (a 10,000-item map is one row, not 10,000).
 */
export function groupSteps(steps) {
  const top = [];
  const maps = new Map();
  for (const [name, st] of Object.entries(steps)) {
    const inst = parseInstance(name);
    if (inst) {
      let items = maps.get(inst.base);
      if (!items) maps.set(inst.base, (items = []));
      items.push({ name, index: inst.index, st });
    } else top.push([name, st]);
  }
  return { top, maps };
}

/**
 * What a step shows as its status: the stored status, told apart where the difference matters to an
 * operator — a queued step that waits for a worker with its code, a skip caused by a failure.
 */
export function displayStatus(st) {
  if (!st) return 'pending';
  if (st.waiting && (st.status === 'queued' || st.status === 'pending')) return 'waiting';
  if (st.status === 'skipped' && st.skip === 'upstream-failed') return 'upstream-failed';
  return st.status;
}

/** Every display status, in legend order, with its words and its glyph (status is never colour alone). */
export const STATUS_INFO = [
  ['succeeded', 'succeeded', '✓'],
  ['failed', 'failed', '✗'],
  ['running', 'running', '▶'],
  ['retrying', 'retrying', '↻'],
  ['queued', 'queued', '…'],
  ['waiting', 'waiting for a worker', '⌛'],
  ['pending', 'pending (upstream not done)', '○'],
  ['skipped', 'skipped (condition or rule)', '⤼'],
  ['upstream-failed', 'skipped: upstream failed', '⊘'],
  ['cancelled', 'cancelled', '■'],
];
const GLYPHS = Object.fromEntries(STATUS_INFO.map(([k, , g]) => [k, g]));
const WORDS = Object.fromEntries(STATUS_INFO.map(([k, w]) => [k, w]));
export const glyph = (status) => GLYPHS[status] ?? '○';
export const statusWords = (status) => WORDS[status] ?? status;

// Failed items first (what an operator opens a map for), then what is still moving, then the rest.
const ITEM_ORDER = { failed: 0, 'upstream-failed': 1, cancelled: 2, running: 3, retrying: 3, waiting: 4, queued: 5, pending: 6, skipped: 7, succeeded: 8 };

/** A map's items as counts and a short text (`312/500 ✓ 3 ✗`), items ordered failed first. */
export function summariseMap(items) {
  const counts = { total: items.length, succeeded: 0, failed: 0, running: 0, waiting: 0, other: 0 };
  for (const { st } of items) {
    const s = displayStatus(st);
    if (s === 'succeeded') counts.succeeded++;
    else if (s === 'failed' || s === 'upstream-failed' || s === 'cancelled') counts.failed++;
    else if (s === 'running' || s === 'retrying') counts.running++;
    else if (s === 'waiting') counts.waiting++;
    else counts.other++;
  }
  const ordered = [...items].sort((a, b) => (ITEM_ORDER[displayStatus(a.st)] ?? 9) - (ITEM_ORDER[displayStatus(b.st)] ?? 9) || a.index - b.index);
  const text = `${counts.succeeded}/${counts.total} ✓${counts.failed ? ` ${counts.failed} ✗` : ''}${counts.running ? ` ${counts.running} ▶` : ''}`;
  const words = `${counts.succeeded} of ${counts.total} items succeeded, ${counts.failed} failed, ${counts.running} running`;
  return { counts, ordered, text, words };
}

const ms = (iso) => (iso ? Date.parse(iso) : undefined);

/**
 * The attempts of a step, oldest first: its recorded history, or — a single attempt of the first
 * generation, which the API does not repeat — one made of the step's own fields.
 */
export function attemptsOf(st) {
  if (st.history?.length) return st.history;
  if (!st.startedAt) return [];
  const outcome = st.status === 'running' || st.status === 'retrying' ? 'running' : st.status;
  return [{
    attempt: st.attempts || 1,
    generation: 0,
    worker: st.worker ?? '',
    codeVersion: st.codeVersion,
    startedAt: st.startedAt,
    finishedAt: st.finishedAt,
    durationMs: st.durationMs,
    outcome,
    error: st.error,
  }];
}

/** Timeline segments ({ from, to, outcome, generation, attempt } in ms); an unfinished attempt runs to `now`. */
export function segmentsOf(st, now) {
  return attemptsOf(st).map((a) => {
    const from = ms(a.startedAt);
    const end = ms(a.finishedAt);
    return { from, to: end ?? (a.outcome === 'running' ? now : from), outcome: a.outcome, generation: a.generation, attempt: a.attempt };
  });
}

/** Frames outside the user's code: dependencies, Node itself, and Conveyor's own modules. */
const INTERNAL = /node_modules[\\/]|node:internal|\(internal[\\/]|^\s*at (?:async )?(?:Promise\.|new Promise)|conveyor-mlops[\\/]|[\\/]src[\\/](?:worker|engine|redis|app|core|dsl|graph|config|registry|api)[\\/][\w.-]+\.[jt]s/;

/** Splits a stack into its head (name: message lines), the user's frames and the internal ones. */
export function foldFrames(stack) {
  const lines = String(stack ?? '').split('\n');
  const head = [];
  const user = [];
  const internal = [];
  for (const line of lines) {
    if (/^\s+at /.test(line)) (INTERNAL.test(line) ? internal : user).push(line.trim());
    else if (!user.length && !internal.length) head.push(line);
    else user.push(line.trim());
  }
  return { head: head.join('\n').trimEnd(), user, internal };
}

/** Log lines of one attempt: same step and attempt number, inside the attempt's time (generations reuse numbers). */
export function logsOfAttempt(logs, step, a, now) {
  const from = ms(a.startedAt) - 1000;
  const to = (ms(a.finishedAt) ?? now) + 1000;
  return logs.filter((l) => l.step === step && (l.attempt === undefined || l.attempt === a.attempt) && l.t >= from && l.t <= to);
}

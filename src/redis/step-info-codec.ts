/**
 * A step's record in `run:{id}:info` comes in two forms (written by the scripts, see
 * src/redis/lua/includes/step-info-codec.lua): JSON (`{…}`, every field in run-schema.ts) while a
 * step runs or when it has more to tell than one plain delivery, and a compact positional form for
 * a step that finished with one plain delivery, short enough (≤ 64 B with a short worker id) that a
 * finished run's `info` hash stays a Redis listpack:
 *
 *   a|d|sa|fa-sa|sa-fs|wallMs|cpuMs|rssBytes|mark|cv|w
 *
 * (`sa` and `rssBytes` in base 36, the rest decimal; resource figures empty when none were sent;
 * `mark` a digest prefix of the dead fence token; `w` last because a worker id may hold '|'). Both forms read to the same StoredStepInfo, so readers
 * never see the difference; runs written before the compact form existed stay readable.
 */
import type { StoredStepInfo } from './run-schema.ts';

/** The compact form, field by field (groups: a, d, sa, fa-sa, sa-fs, wallMs, cpuMs, rssBytes, mark, cv, w). */
export const COMPACT_STEP_INFO = /^(\d+)\|(\d+)\|([0-9a-z]+)\|(\d+)\|(\d+)\|(?:(\d+(?:\.\d+)?)\|(\d+(?:\.\d+)?)\|([0-9a-z]+)|\|\|)\|([0-9a-f]{6})?\|([^|]*)\|(.*)$/s;

/** A step record as stored, in either form; `undefined` for compact text that does not match the form. */
export function parseStepInfo(raw: string): StoredStepInfo | undefined {
  if (raw.startsWith('{')) return JSON.parse(raw) as StoredStepInfo;
  const m = COMPACT_STEP_INFO.exec(raw);
  if (!m) return undefined;
  const [, a, d, sa, ran, sinceFirst, wallMs, cpuMs, rssBytes, , cv, w] = m;
  const started = parseInt(sa, 36);
  const info: StoredStepInfo = { a: Number(a), d: Number(d), w, sa: started, fs: started - Number(sinceFirst), fa: started + Number(ran) };
  if (cv) info.cv = cv;
  // Kept as the JSON text the worker sent, like the JSON form's `res`.
  if (wallMs !== undefined) info.res = JSON.stringify({ wallMs: Number(wallMs), cpuMs: Number(cpuMs), rssBytes: parseInt(rssBytes, 36) });
  return info;
}

/**
 * Every record the run scripts (src/redis/lua/) write, in one place: the fields of each run key, who
 * writes them, and a zod schema that reads them. The decoders (run-records.ts) and the store use the
 * types inferred here; test/redis/run-schema.test.ts drives every script and parses everything they
 * wrote with these schemas, strictly, so a field added to a script without being added here fails.
 * What the statuses mean and how they may change is src/domain/run-state.ts.
 */
import { z } from 'zod';
import { OUTBOX_OWED, RUN_STATUSES, STEP_LETTERS, type StepLetter } from '../domain/run-state.ts';
import { COMPACT_STEP_INFO, parseStepInfo } from './step-info-codec.ts';

export { OUTBOX_OWED };

const msText = z.string().regex(/^\d+$/, 'a time in ms');
const intText = z.string().regex(/^-?\d+$/, 'an integer');
const jsonText = z.string().refine((text) => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}, 'JSON text');

/**
 * `run:{id}` hash. Written by the engine at trigger (run-trigger.lua stores the fields as given, plus
 * `remaining`), then: step-start (`status` running, `startedAt`, `codeVersion` when the run had none),
 * step-complete (`remaining`, `failed`, `updatedAt`; at the end `status`, `finishedAt`, `outbox`),
 * step-retry / step-park / step-map-expand (`updatedAt`; map-expand also `remaining`), run-cancel
 * (`status`, `finishedAt`, `updatedAt`, `cancelledBy`, `remaining`), run-retry (`gen`, `status`,
 * `remaining`, `failed`, `updatedAt`; deletes `finishedAt`, `cancelledBy`).
 */
export const storedRunSchema = z
  .object({
    id: z.string().min(1),
    pipeline: z.string().min(1),
    status: z.enum(RUN_STATUSES),
    /** JSON text of the validated params and of the trigger info. */
    params: jsonText,
    trigger: jsonText,
    logicalTime: z.string(),
    dagHash: z.string().min(1),
    /** '' until known: the first worker that starts a step pins it (step-start.lua). */
    codeVersion: z.string(),
    versioning: z.enum(['compatible', 'pinned']),
    createdAt: msText,
    /** Last change of the run's progress (trigger, completions, retries, parks, map expansion, cancel). */
    updatedAt: msText,
    startedAt: msText.optional(),
    finishedAt: msText.optional(),
    /** Steps not finished yet (map instances count while their map collects). */
    remaining: intText,
    /** Steps failed in this generation. */
    failed: intText,
    /** Run retries so far; part of re-enqueued job ids. */
    gen: intText,
    /** 'any': runOutcome 'any-failure' (absent: the run fails only by a failed leaf). */
    outcome: z.literal('any').optional(),
    outbox: z.literal(OUTBOX_OWED).optional(),
    cancelledBy: z.string().optional(),
  })
  .strict();
export type StoredRun = z.infer<typeof storedRunSchema>;
/** The fields the engine hands to run-trigger.lua (it adds `remaining`). */
export type NewRunFields = Omit<StoredRun, 'remaining' | 'startedAt' | 'finishedAt' | 'outbox' | 'cancelledBy'>;

const storedErrorSchema = z
  .object({ message: z.string(), name: z.string().optional(), code: z.string().optional(), stack: z.string().optional() })
  .strict();

const resourcesSchema = z.object({ wallMs: z.number(), cpuMs: z.number(), rssBytes: z.number() }).strict();

const ms = z.number().int().nonnegative();
const count = z.number().int().nonnegative();
const attemptOutcome = z.enum(['s', 'f', 'k', 'x', 'c', 'r', 'h', 'p', 'lost']);

/** An earlier delivery of a step, archived in `h` by step-start.lua (same letters as the record). */
export const storedAttemptSchema = z
  .object({ a: count, g: count, w: z.string(), cv: z.string(), sa: ms, fa: ms, o: attemptOutcome, e: storedErrorSchema })
  .partial()
  .strict();
export type StoredAttempt = z.infer<typeof storedAttemptSchema>;

/**
 * `run:{id}:info` hash: step -> attempt record. Terse names: it is written for every step. A step
 * that finished with one plain delivery is stored in a compact positional form instead of JSON
 * (step-complete, src/redis/step-info-codec.ts); it reads to the fields a d w cv sa fs fa res.
 * step-start: a d t w sa fs cv (clears wf ws wd ld) · step-complete: fa res e r sk (a skipped successor
 * gets only r sk fa) · step-retry: e ra n, or in hand-back mode hb hw · step-park: ps pc psince pj
 * (clears wq) · step-wait: wf ws wd wq pj · step-map-expand: mn mnext mins (step-complete adds fa e
 * when the map ends) · run-retry: prev (clears e r fa t pj ps pc psince) · eager claim in
 * step-complete (includes/eager-claim.lua): what step-start writes plus ld · step-lease: ld. Attempt history
 * (includes/attempt-history.lua): retry/hand-back/park/run-retry set o ea; step-start moves the
 * previous delivery into h and sets g.
 */
export const storedStepInfoSchema = z
  .object({
    /** policy attempt of the latest delivery (1-based) */
    a: count,
    /** deliveries, counting redeliveries after a stalled worker */
    d: count,
    /** fence token of the current delivery: only it may complete the step */
    t: z.string(),
    /** worker of the latest attempt, and its code version */
    w: z.string(),
    cv: z.string(),
    /** started at (latest attempt), first started at, finished at */
    sa: ms,
    fs: ms,
    fa: ms,
    /** the error of the latest failed attempt, and of the previous generation (after a run retry) */
    e: storedErrorSchema,
    prev: storedErrorSchema,
    /** why the step was skipped, and which kind of skip */
    r: z.string(),
    sk: z.enum(['condition', 'upstream-failed', 'upstream-skipped', 'trigger-rule']),
    /** resource figures of the final attempt, JSON text as the worker sent it */
    res: jsonText.refine((text) => resourcesSchema.safeParse(JSON.parse(text)).success, 'JSON { wallMs, cpuMs, rssBytes }'),
    /** retry at (ms) and the number of retried attempts */
    ra: ms,
    n: count,
    /** hand-backs by shutting-down workers, and the last reason */
    hb: count,
    hw: z.string(),
    /** parked state (any JSON), park count, parked since */
    ps: z.unknown(),
    pc: count,
    psince: ms,
    /** job id of the step's job when it is not `<runId>.<step>`: a parked step's resume job, a waiting step's */
    pj: z.string(),
    /** waiting for a worker with "<pipeline>@<version>", since, deadline (noWorkerTimeout), version queue */
    wf: z.string(),
    ws: ms,
    wd: ms,
    wq: z.string(),
    /** lease deadline (ms) of an eagerly claimed step (eager-claim.lua, renewed by step-lease.lua; cleared by step-start) */
    ld: ms,
    /** a map step: its instance count, the next instance to start, minSuccess as a count of items */
    mn: count,
    mnext: count,
    mins: count,
    /** generation of the latest delivery (absent for 0) */
    g: count,
    /** how the latest delivery ended when the step did not end with it (retry, hand-back, park, run retry), and when */
    o: attemptOutcome,
    ea: ms,
    /** earlier deliveries, oldest first, at most 9 (the latest is the record itself) */
    h: z.array(storedAttemptSchema),
  })
  .partial()
  .strict();
export type StoredStepInfo = z.infer<typeof storedStepInfoSchema>;

export const stepLetterSchema = z.enum(Object.keys(STEP_LETTERS) as [StepLetter, ...StepLetter[]]);

/** A stored step record: JSON, or the compact form of a finished step (src/redis/step-info-codec.ts). */
const stepInfoText = z.union([jsonText, z.string().regex(COMPACT_STEP_INFO, 'the compact form a|d|sa|fa-sa|sa-fs|wallMs|cpuMs|rssBytes|mark|cv|w')]);

/**
 * `run:{id}:def` values: "<rule letter>|<successor,…>|<upstream count>|<successor kinds>" (rule
 * letters: src/dsl/trigger-rules.ts; kinds: src/redis/lua/includes/step-def.lua). Runs stored by
 * earlier versions have no kinds, and the oldest hold the list of needs in place of the count.
 */
export const stepDefSchema = z
  .string()
  .regex(/^[sdofnmakz]\|[^|]*\|(\d+\|[sdofnmakz+*]*|\d+|[A-Za-z][^|]*|)$/, '"<rule>|<successors>|<upstream count>|<successor kinds>"');

/** Every hash of one run, as read with HGETALL (the list `logs` and the legacy `dag` string aside). */
export const storedRunKeysSchema = z
  .object({
    run: storedRunSchema,
    def: z.record(z.string(), stepDefSchema),
    status: z.record(z.string(), stepLetterSchema),
    /** upstream steps not finished / failed or skipped by failure / skipped by condition (deleted when the run ends) */
    pending: z.record(z.string(), intText),
    bad: z.record(z.string(), intText),
    condSkip: z.record(z.string(), intText),
    /** output hand-off text (superjson envelope, or JSON from older runs) */
    output: z.record(z.string(), z.string()),
    info: z.record(z.string(), stepInfoText.transform((text) => parseStepInfo(text) as unknown).pipe(storedStepInfoSchema)),
    /** a map instance's item, JSON */
    items: z.record(z.string(), jsonText),
  })
  .strict();

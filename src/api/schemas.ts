import { z } from 'zod';
import { NAME_PATTERN } from '../core/ids.ts';
import { RUN_STATUSES, RUN_TRIGGERS } from '../domain/run-state.ts';

/** Named schemas become `components.schemas` entries in the OpenAPI document. */
export const components = z.registry<{ id: string }>();
export const named = <T extends z.ZodType>(id: string, schema: T): T => {
  components.add(schema, { id });
  return schema;
};

const name = z.string().regex(NAME_PATTERN, 'expected a name of letters, digits, "_" or "-" starting with a letter');
export const runIdSchema = z.string().min(1).max(200).regex(/^[A-Za-z0-9_.-]+$/, 'expected a run id (letters, digits, ".", "_", "-")');
export const iso = z.string().describe('ISO-8601 time');
const json = z.unknown();

// ---- path and query parameters ----
export const pipelinePath = z.object({ pipelineId: name });
export const runPath = z.object({ runId: runIdSchema });
export const modelPath = z.object({ model: name });
export const aliasPath = z.object({ model: name, alias: name });

const limit = (max: number, fallback: number) => z.coerce.number().int().min(1).max(max).default(fallback);
const offset = z.coerce.number().int().min(0).default(0);
export { RUN_STATUSES, RUN_TRIGGERS };
/** An instant as ISO-8601 (a date alone means its start, UTC) → ms. */
const instant = z
  .string()
  .refine((v) => Number.isFinite(Date.parse(v)), 'expected an ISO-8601 date or time, e.g. 2026-03-01 or 2026-03-01T10:00:00Z')
  .transform((v) => Date.parse(v));
export const listRunsQuery = z.object({
  pipeline: name.optional(),
  status: z.enum(RUN_STATUSES).optional(),
  trigger: z.enum(RUN_TRIGGERS).optional(),
  from: instant.optional().describe('created at or after (ISO-8601)'),
  to: instant.optional().describe('created at or before (ISO-8601)'),
  id: runIdSchema.optional().describe('this run only (the other filters still apply)'),
  idPrefix: runIdSchema.optional().describe('runs whose id starts with this (the other filters still apply); newest first for generated ids'),
  limit: limit(200, 20),
  offset: offset.describe('a nextOffset of the previous page'),
});
export const logsQuery = z.object({ offset, limit: limit(5000, 500), step: z.string().min(1).max(200).optional() });
export const pageQuery = z.object({ offset, limit: limit(1000, 50) });
export const historyQuery = z.object({ offset, limit: limit(1000, 50), alias: name.optional() });

// ---- bodies ----
export const triggerBody = named(
  'TriggerRequest',
  z.strictObject({ params: z.record(z.string(), json).optional().describe('run params; validated against the pipeline params schema (422 on failure)') }),
);
export const promoteBody = named(
  'PromoteRequest',
  z.strictObject({
    version: z.number().int().min(1),
    reason: z.string().min(1, 'expected a reason for the audit log').max(2000),
    actor: z.string().min(1).max(200).optional(),
    expectedVersion: z.number().int().min(1).nullable().optional().describe('compare-and-set: where the alias must point now'),
    force: z.boolean().optional().describe('promote even a version whose evaluation gates failed; the audit entry then has details.forced'),
  }),
);
export const rollbackBody = named(
  'RollbackRequest',
  z.strictObject({
    reason: z.string().min(1, 'expected a reason for the audit log').max(2000),
    actor: z.string().min(1).max(200).optional(),
  }),
);
export const emptyBody = z.strictObject({}).optional();

// ---- responses ----
export const errorSchema = named(
  'Error',
  z.object({ error: z.object({ code: z.string(), message: z.string(), details: z.record(z.string(), json).optional() }) }),
);

export const scheduleSpecSchema = named(
  'ScheduleSpec',
  z.object({
    name: z.string().optional(),
    cron: z.string(),
    timezone: z.string().optional(),
    catchup: z.string().optional(),
    catchupWindow: z.string().optional(),
    overlap: z.string().optional(),
    params: z.record(z.string(), json).optional(),
  }),
);

export const stepSpecSchema = named(
  'StepSpec',
  z.object({
    name: z.string(),
    needs: z.array(z.string()),
    queue: z.string(),
    retries: z.number(),
    backoff: z.object({ type: z.enum(['fixed', 'exponential']), delayMs: z.number() }),
    timeoutMs: z.number(),
    runWhen: z.string(),
    conditional: z.boolean(),
    kind: z.enum(['task', 'map']),
    maxParallel: z.number().optional(),
  }),
);

export const pipelineSummarySchema = named(
  'PipelineSummary',
  z.object({
    id: z.string(),
    description: z.string(),
    steps: z.array(z.string()),
    dagHash: z.string(),
    schedules: z.array(scheduleSpecSchema),
  }),
);

export const pipelineDefinitionSchema = named(
  'PipelineDefinition',
  z.object({
    id: z.string(),
    description: z.string(),
    dagHash: z.string(),
    spec: z.object({ id: z.string(), description: z.string(), steps: z.array(stepSpecSchema), schedules: z.array(scheduleSpecSchema), triggers: z.array(json) }),
    paramsSchema: json.describe('JSON Schema (2020-12) of the run params'),
  }),
);

export const graphSchema = named(
  'PipelineGraph',
  z.object({
    pipeline: z.string(),
    width: z.number(),
    height: z.number(),
    nodes: z.array(z.object({ id: z.string(), queue: z.string(), kind: z.string(), x: z.number(), y: z.number(), width: z.number(), height: z.number() })),
    edges: z.array(z.object({ from: z.string(), to: z.string(), points: z.array(z.object({ x: z.number(), y: z.number() })) })),
  }),
);

const stepError = z.object({ message: z.string(), name: z.string().optional(), stack: z.string().optional() });
export const attemptViewSchema = named(
  'AttemptView',
  z.object({
    attempt: z.number().describe('policy attempt (1-based) within its generation'),
    generation: z.number().describe('the run generation (0, then +1 per run retry) this attempt belongs to'),
    worker: z.string(),
    codeVersion: z.string().optional(),
    startedAt: iso,
    finishedAt: iso.optional(),
    durationMs: z.number().optional(),
    outcome: z.string().describe('running, succeeded, failed, skipped, retried (failed; another attempt followed), handed-back, or lost (its worker stalled or died)'),
    error: stepError.optional(),
  }),
);

const stepStatus = z.enum(['pending', 'queued', 'running', 'retrying', 'succeeded', 'failed', 'skipped', 'cancelled']);
export const stepViewSchema = named(
  'StepView',
  z.object({
    status: z.string().describe(`one of ${stepStatus.options.join(', ')}`),
    attempts: z.number(),
    output: json.optional(),
    error: stepError.optional(),
    reason: z.string().optional(),
    skip: z
      .enum(['condition', 'upstream-failed', 'upstream-skipped', 'trigger-rule'])
      .describe('for a skipped step: its own condition was false, an upstream step failed, an upstream step was skipped, or its trigger rule was not met')
      .optional(),
    queue: z.string().optional(),
    needs: z.array(z.string()).optional(),
    worker: z.string().optional(),
    startedAt: iso.optional(),
    finishedAt: iso.optional(),
    durationMs: z.number().optional(),
    resources: z
      .object({ wallMs: z.number(), cpuMs: z.number(), rssBytes: z.number() })
      .describe('measured by the worker for the final attempt; CPU and RSS are process-wide')
      .optional(),
    codeVersion: z.string().describe('code version of the worker that ran the latest attempt').optional(),
    waiting: z.string().describe('"waiting for a worker with <pipeline>@<version>" while no live worker can run the step').optional(),
    waitingSince: iso.optional(),
    handBacks: z.number().describe('times a shutting-down worker handed the step back (not attempts)').optional(),
    history: z
      .array(attemptViewSchema)
      .describe('every delivery, oldest first (the latest 10); present when there was more than one or a retried run ran the step — otherwise the step fields describe its only attempt')
      .optional(),
    runWhen: z.string().describe('for a skipped step: its trigger rule, when not all-succeeded').optional(),
    upstream: z
      .array(z.object({ step: z.string(), status: z.string() }))
      .describe('for a skipped step: how each upstream step stands (succeeded, failed, skipped, skipped-by-failure, …)')
      .optional(),
  }),
);

export const runViewSchema = named(
  'RunView',
  z.object({
    id: z.string(),
    pipeline: z.string(),
    status: z.enum(RUN_STATUSES),
    params: z.record(z.string(), json),
    trigger: z.record(z.string(), json),
    logicalTime: z.string(),
    dagHash: z.string(),
    codeVersion: z.string().describe("code version the run started with ('' until a worker started it)"),
    versioning: z.enum(['compatible', 'pinned']),
    createdAt: iso,
    startedAt: iso.optional(),
    finishedAt: iso.optional(),
    durationMs: z.number().optional(),
    generation: z.number(),
    steps: z.record(z.string(), stepViewSchema),
  }),
);

export const runSummarySchema = named(
  'RunSummary',
  z.object({
    id: z.string(),
    pipeline: z.string(),
    status: z.enum(RUN_STATUSES),
    trigger: z.record(z.string(), json),
    createdAt: iso,
    startedAt: iso.optional(),
    finishedAt: iso.optional(),
    durationMs: z.number().optional(),
  }),
);
export const runListSchema = named(
  'RunList',
  z.object({ items: z.array(runSummarySchema), limit: z.number(), offset: z.number(), nextOffset: z.number().nullable() }),
);
export const triggerResultSchema = named('TriggerResult', z.object({ runId: z.string(), created: z.boolean(), run: runViewSchema }));
export const cancelResultSchema = named('CancelResult', z.object({ runId: z.string(), cancelledSteps: z.array(z.string()) }));
export const retryResultSchema = named('RetryResult', z.object({ runId: z.string(), requeued: z.array(z.string()) }));

export const logEntrySchema = named(
  'LogEntry',
  z.object({ t: z.number(), level: z.string(), step: z.string(), attempt: z.number(), msg: z.string(), fields: z.record(z.string(), json).optional() }),
);
export const logPageSchema = named(
  'LogPage',
  z.object({ runId: z.string(), offset: z.number(), nextOffset: z.number(), entries: z.array(logEntrySchema.extend({ index: z.number() })) }),
);

export const scheduleStatusSchema = named(
  'ScheduleStatus',
  z.object({
    pipeline: z.string(),
    schedule: z.string(),
    cron: z.string(),
    timezone: z.string(),
    description: z.string(),
    catchup: z.string(),
    overlap: z.string(),
    paused: z.boolean(),
    nextTicks: z.array(iso),
    lastTickTime: iso.optional(),
    lastRunId: z.string().optional(),
    pending: z.number(),
    queued: z.number(),
  }),
);
export const scheduleListSchema = named('ScheduleList', z.object({ items: z.array(scheduleStatusSchema) }));
export const pauseResultSchema = named('PauseResult', z.object({ pipeline: z.string(), paused: z.boolean() }));

export const modelVersionSchema = named(
  'ModelVersion',
  z.object({
    name: z.string(),
    version: z.number(),
    artifact: z.object({ uri: z.string(), sha256: z.string(), bytes: z.number(), filename: z.string() }),
    framework: z.string(),
    format: z.string(),
    metrics: z.record(z.string(), z.number()),
    hyperparameters: z.record(z.string(), json),
    data: z.object({ source: z.string(), sha256: z.string(), rowCount: z.number(), schema: z.record(z.string(), z.string()) }).nullable(),
    lineage: z.object({ runId: z.string(), step: z.string(), dagHash: z.string() }).nullable(),
    createdAt: iso,
    tags: z.record(z.string(), z.string()),
    description: z.string(),
    gates: z
      .object({ passed: z.boolean(), gates: z.array(z.object({ name: z.string(), passed: z.boolean(), reason: z.string() })) })
      .nullable()
      .describe('outcome of the evaluation gates given at registration; null = not evaluated'),
  }),
);
export const modelSummarySchema = named(
  'ModelSummary',
  z.object({
    name: z.string(),
    createdAt: iso,
    updatedAt: iso,
    latestVersion: z.number(),
    latest: modelVersionSchema.nullable(),
    aliases: z.record(z.string(), z.number()),
  }),
);
export const auditEntrySchema = named(
  'AuditEntry',
  z.object({
    seq: z.number(),
    model: z.string(),
    at: iso,
    actor: z.string(),
    action: z.enum(['set', 'rollback', 'delete', 'deploy']),
    alias: z.string(),
    from: z.number().nullable(),
    to: z.number().nullable(),
    reason: z.string(),
    details: z.record(z.string(), json).optional(),
  }),
);
const page = <T extends z.ZodType>(id: string, item: T) =>
  named(id, z.object({ items: z.array(item), total: z.number(), offset: z.number(), limit: z.number() }));
export const modelPageSchema = page('ModelPage', modelSummarySchema);
export const versionPageSchema = page('ModelVersionPage', modelVersionSchema);
export const auditPageSchema = page('AuditPage', auditEntrySchema);

export const queueInfoSchema = named(
  'QueueInfo',
  z.object({
    name: z.string(),
    waiting: z.number(),
    active: z.number(),
    delayed: z.number(),
    failed: z.number(),
    prioritized: z.number(),
    oldestWaitingAgeMs: z.number(),
  }),
);
export const queueListSchema = named('QueueList', z.object({ items: z.array(queueInfoSchema) }));
export const workerSchema = named(
  'Worker',
  z.object({
    id: z.string(),
    host: z.string(),
    pid: z.number(),
    queues: z.array(z.string()),
    pipelines: z.array(z.object({ id: z.string(), hash: z.string() })),
    running: z.number(),
    startedAt: z.number(),
    lastSeen: z.number(),
  }),
);
export const workerListSchema = named('WorkerList', z.object({ items: z.array(workerSchema) }));
export const pipelineListSchema = named('PipelineList', z.object({ items: z.array(pipelineSummarySchema) }));

import { basename, resolve } from 'node:path';
import { systemClock, type Clock } from '../core/clock.ts';
import { silentLogger, type Logger } from '../core/logger.ts';
import { NotFoundError } from '../errors/conveyor-error.ts';
import type { RedisClient } from '../redis/connection.ts';
import type { KeySpace } from '../redis/keys.ts';
import { RegistryStore, type AliasScriptAction } from '../redis/registry-store.ts';
import type { ArtifactStore } from './artifact-store.ts';
import { ArtifactChecksumError, GatesFailedError } from './errors.ts';
import {
  aliasActionInputSchema,
  modelNameSchema,
  pageInputSchema,
  parseInput,
  registerInputSchema,
  setAliasInputSchema,
  versionRefSchema,
  type PageInput,
  type ParsedRegisterInput,
  type RegisterInput,
} from './schemas.ts';
import type { AliasMovedEvent, ArtifactRef, AuditEntry, GateOutcomeRecord, JsonValue, ModelSummary, ModelVersion, Page, RegisterResult } from './types.ts';
import { postWebhook, type WebhookConfig } from './webhook.ts';

export interface ModelRegistryOptions {
  redis: RedisClient;
  keys: KeySpace;
  artifacts: ArtifactStore;
  clock?: Clock;
  logger?: Logger;
  /** Each alias move is POSTed (JSON: the audit entry) to these, in the background; see `flush()`. */
  webhooks?: WebhookConfig[];
  /** The folder directory deploys are confined to (CONVEYOR_DEPLOY_ROOT); default `.conveyor/serving`. */
  deployRoot?: string;
}

export interface AliasMoveOptions {
  actor: string;
  reason?: string;
  /** Compare-and-set: the version the alias must point at now; `null` = it must be unset. */
  expectedVersion?: number | null;
}

export interface DeploymentRecord {
  actor: string;
  alias: string;
  from: number | null;
  to: number | null;
  reason?: string;
  details: Record<string, JsonValue>;
}

export type AliasMovedListener = (event: AliasMovedEvent) => void | Promise<void>;

type StoredRecord = Omit<ModelVersion, 'name' | 'version'>;

/**
 * The model registry: versions (numbered 1, 2, 3… atomically), their metadata and lineage,
 * aliases moved atomically with an audit log, and alias-move events. Redis work lives in
 * `RegistryStore`; this class validates input, checks artifacts and shapes results.
 */
export class ModelRegistry {
  readonly artifacts: ArtifactStore;
  readonly deployRoot: string;
  readonly store: RegistryStore;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly webhooks: WebhookConfig[];
  private readonly listeners = new Set<AliasMovedListener>();
  private readonly pending = new Set<Promise<unknown>>();

  constructor(options: ModelRegistryOptions) {
    this.artifacts = options.artifacts;
    this.store = new RegistryStore(options.redis, options.keys);
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.webhooks = options.webhooks ?? [];
    this.deployRoot = resolve(options.deployRoot ?? '.conveyor/serving');
  }

  /** Registers a new version. Idempotent per `idempotencyKey` (default: run/step/sha256 when lineage is given). */
  async register(input: RegisterInput): Promise<RegisterResult> {
    const parsed = parseInput(registerInputSchema, input, 'model registration');
    const artifact = await this.resolveArtifact(parsed);
    const createdAt = this.nowIso();
    const record: StoredRecord = {
      artifact,
      framework: parsed.framework,
      format: parsed.format,
      metrics: parsed.metrics,
      hyperparameters: parsed.hyperparameters as Record<string, JsonValue>,
      data: parsed.data,
      lineage: parsed.lineage,
      createdAt,
      tags: parsed.tags,
      description: parsed.description,
      gates: parsed.gates,
    };
    const idem = parsed.idempotencyKey ?? (parsed.lineage ? `${parsed.lineage.runId}/${parsed.lineage.step}/${artifact.sha256}` : '');
    const { version, created } = await this.store.registerVersion(parsed.name, JSON.stringify(record), createdAt, idem);
    // A repeat (same idempotency key) returns what the first registration stored, not this input.
    return { version: created ? { name: parsed.name, version, ...record } : await this.get(parsed.name, version), created };
  }

  /** A version by number (`3` or `"3"`), `"latest"`, or alias name. */
  async get(name: string, ref: number | string): Promise<ModelVersion> {
    const model = parseInput(modelNameSchema, name, 'model name');
    const version = await this.resolveRef(model, parseInput(versionRefSchema, ref, `model "${model}" version`));
    const [raw] = await this.store.versionRecords(model, [version]);
    if (!raw) throw new NotFoundError('model version', `${model}@${version}`);
    return toVersion(model, version, raw);
  }

  /** Versions newest first. */
  async listVersions(name: string, page: PageInput = {}): Promise<Page<ModelVersion>> {
    const model = parseInput(modelNameSchema, name, 'model name');
    const { offset, limit } = parseInput(pageInputSchema, page, 'page');
    const meta = await this.store.modelMeta(model);
    if (!meta) throw new NotFoundError('model', model);
    // Versions are dense (1..latest, never deleted), so a page is a range of numbers.
    const numbers: number[] = [];
    for (let v = meta.latest - offset; v >= 1 && numbers.length < limit; v--) numbers.push(v);
    const raws = await this.store.versionRecords(model, numbers);
    const items = raws.flatMap((raw, i) => (raw ? [toVersion(model, numbers[i], raw)] : []));
    return { items, total: meta.latest, offset, limit };
  }

  /** Models in registration order, each with its latest version and aliases. */
  async listModels(page: PageInput = {}): Promise<Page<ModelSummary>> {
    const { offset, limit } = parseInput(pageInputSchema, page, 'page');
    const [total, names] = await Promise.all([this.store.modelCount(), this.store.modelNames(offset, limit)]);
    const rows = await this.store.modelsWithAliases(names);
    const items = await Promise.all(rows.map(async ({ meta, aliases }) => this.summary(meta, aliases)));
    return { items, total, offset, limit };
  }

  async getModel(name: string): Promise<ModelSummary> {
    const model = parseInput(modelNameSchema, name, 'model name');
    const [row] = await this.store.modelsWithAliases([model]);
    if (!row) throw new NotFoundError('model', model);
    return this.summary(row.meta, row.aliases);
  }

  /** alias -> version of one model. */
  async aliases(name: string): Promise<Record<string, number>> {
    const model = parseInput(modelNameSchema, name, 'model name');
    return numberValues(await this.store.aliases(model));
  }

  /** Points `alias` at `version` (atomically, with an audit entry and an event). */
  async setAlias(name: string, alias: string, version: number, options: AliasMoveOptions): Promise<AliasMovedEvent> {
    const input = parseInput(setAliasInputSchema, { name, alias, version, ...options }, 'set alias');
    return this.move(input.name, { action: 'set', alias: input.alias, version: input.version, expected: input.expectedVersion, actor: input.actor, reason: input.reason });
  }

  /**
   * Points `alias` at a version as an operator does (CLI, API): like `setAlias`, but a version whose
   * evaluation gates failed (see `gatesOf`) is refused with GatesFailedError unless `force`; a forced
   * move is audited with `details: { forced: true, failedGates }`.
   */
  async promote(name: string, alias: string, ref: number | string, options: AliasMoveOptions & { force?: boolean }): Promise<AliasMovedEvent> {
    const version = await this.get(name, ref);
    const input = parseInput(setAliasInputSchema, { name, alias, version: version.version, ...options }, 'promote');
    const gates = await this.gatesOf(version);
    const failed = gates && !gates.passed ? gates.gates.filter((g) => !g.passed) : undefined;
    if (failed && !input.force) throw new GatesFailedError(input.name, version.version, input.alias, failed);
    const details = failed ? JSON.stringify({ forced: true, failedGates: failed }) : undefined;
    return this.move(input.name, { action: 'set', alias: input.alias, version: input.version, expected: input.expectedVersion, actor: input.actor, reason: input.reason, detailsJson: details });
  }

  /**
   * The evaluation gates of a version: those given at registration, else those of the newest `deploy`
   * audit entry for it that carries gates (a deploy blocked by its gates); null when never evaluated.
   */
  async gatesOf(version: ModelVersion): Promise<GateOutcomeRecord | null> {
    if (version.gates) return version.gates;
    for (let start = 0; ; start += AUDIT_SCAN_BATCH) {
      const raws = await this.store.auditRange(version.name, start, start + AUDIT_SCAN_BATCH - 1);
      for (const raw of raws) {
        const entry = JSON.parse(raw) as AuditEntry;
        const gates = entry.details?.gates as { passed?: unknown; gates?: unknown } | undefined;
        if (entry.action !== 'deploy' || entry.to !== version.version || typeof gates?.passed !== 'boolean') continue;
        const list = Array.isArray(gates.gates) ? (gates.gates as Array<Record<string, unknown>>) : [];
        return { passed: gates.passed, gates: list.map((g) => ({ name: String(g.name ?? '?'), passed: g.passed === true, reason: typeof g.reason === 'string' ? g.reason : '' })) };
      }
      if (raws.length < AUDIT_SCAN_BATCH) return null;
    }
  }

  async deleteAlias(name: string, alias: string, options: AliasMoveOptions): Promise<AliasMovedEvent> {
    const input = parseInput(aliasActionInputSchema, { name, alias, ...options }, 'delete alias');
    return this.move(input.name, { action: 'delete', alias: input.alias, expected: input.expectedVersion, actor: input.actor, reason: input.reason });
  }

  /**
   * Undoes the newest move of `alias` not undone yet (per the audit log): the alias goes back to where
   * it pointed before that move, or is removed if it was unset then. Repeated rollbacks step further
   * back through the history (v3 → v2 → v1), they do not toggle between the last two versions.
   */
  async rollback(name: string, alias: string, actor: string, reason = '', options: { expectedVersion?: number | null } = {}): Promise<AliasMovedEvent> {
    const input = parseInput(aliasActionInputSchema, { name, alias, actor, reason, ...options }, 'rollback alias');
    return this.move(input.name, { action: 'rollback', alias: input.alias, expected: input.expectedVersion, actor: input.actor, reason: input.reason });
  }

  /**
   * Audit log, newest first; `alias` filters to one alias; `movesOnly` leaves out `deploy` records
   * (which move nothing), so each row is one move: promotion (forced ones have `details.forced`), rollback, delete.
   */
  async history(name: string, options: PageInput & { alias?: string; movesOnly?: boolean } = {}): Promise<Page<AuditEntry>> {
    const model = parseInput(modelNameSchema, name, 'model name');
    const { alias, movesOnly, ...pageInput } = options;
    const { offset, limit } = parseInput(pageInputSchema, pageInput, 'page');
    if (!(await this.store.modelMeta(model))) throw new NotFoundError('model', model);
    if (alias === undefined && !movesOnly) {
      const [total, raws] = await Promise.all([this.store.auditLength(model), this.store.auditRange(model, offset, offset + limit - 1)]);
      return { items: raws.map((raw) => JSON.parse(raw) as AuditEntry), total, offset, limit };
    }
    const keep = (e: AuditEntry) => (alias === undefined || e.alias === alias) && (!movesOnly || e.action !== 'deploy');
    const all = (await this.store.auditRange(model, 0, -1)).map((raw) => JSON.parse(raw) as AuditEntry).filter(keep);
    return { items: all.slice(offset, offset + limit), total: all.length, offset, limit };
  }

  /** Appends a `deploy` entry (moves nothing) to the audit log. */
  async recordDeployment(name: string, record: DeploymentRecord): Promise<AuditEntry> {
    const model = parseInput(modelNameSchema, name, 'model name');
    const entry = { model, at: this.nowIso(), actor: record.actor, action: 'deploy', alias: record.alias, from: record.from, to: record.to, reason: record.reason ?? '', details: record.details };
    return JSON.parse(await this.store.appendAudit(model, JSON.stringify(entry))) as AuditEntry;
  }

  /** Re-hashes a version's stored artifact; throws ArtifactChecksumError when it no longer matches. */
  async verifyArtifact(version: ModelVersion): Promise<void> {
    const result = await this.artifacts.verify(version.artifact.uri, version.artifact.sha256);
    if (!result.ok) throw new ArtifactChecksumError(`model "${version.name}" version ${version.version}`, version.artifact.uri, version.artifact.sha256, result.sha256);
  }

  /** In-process hook called after each alias move made through this instance. Returns an unsubscribe. */
  onAliasMoved(listener: AliasMovedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Alias moves from every process, via Redis pub/sub (own connection). Returns a stop function. */
  async subscribe(listener: (event: AliasMovedEvent) => void): Promise<() => Promise<void>> {
    return this.store.subscribe((json) => {
      try {
        listener(JSON.parse(json) as AliasMovedEvent);
      } catch (error) {
        this.logger.warn('registry event listener failed', { error: (error as Error).message });
      }
    });
  }

  /** Waits for background work (listeners, webhook deliveries) started by alias moves. */
  async flush(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  private async move(model: string, move: { action: AliasScriptAction; alias: string; version?: number; expected?: number | null; actor: string; reason: string; detailsJson?: string }): Promise<AliasMovedEvent> {
    const json = await this.store.moveAlias(model, { ...move, nowIso: this.nowIso() });
    const event = JSON.parse(json) as AliasMovedEvent;
    this.emit(event);
    return event;
  }

  private emit(event: AliasMovedEvent): void {
    const track = (work: Promise<unknown>, what: string) => {
      const p = work.catch((error) => this.logger.warn(`${what} failed`, { model: event.model, alias: event.alias, seq: event.seq, error: (error as Error).message }));
      this.pending.add(p);
      void p.finally(() => this.pending.delete(p));
    };
    for (const listener of this.listeners) track(Promise.resolve().then(() => listener(event)), 'onAliasMoved listener');
    for (const hook of this.webhooks) {
      const { url, ...options } = hook;
      track(postWebhook(url, { type: 'alias.moved', ...event }, options), 'alias webhook');
    }
  }

  private async summary(meta: { name: string; createdAt: string; updatedAt: string; latest: number }, aliases: Record<string, string>): Promise<ModelSummary> {
    const [raw] = meta.latest ? await this.store.versionRecords(meta.name, [meta.latest]) : [null];
    return {
      name: meta.name,
      createdAt: meta.createdAt,
      updatedAt: meta.updatedAt,
      latestVersion: meta.latest,
      latest: raw ? toVersion(meta.name, meta.latest, raw) : null,
      aliases: numberValues(aliases),
    };
  }

  private async resolveRef(model: string, ref: number | string): Promise<number> {
    if (typeof ref === 'number') return ref;
    if (/^\d+$/.test(ref) && Number(ref) >= 1) return Number(ref);
    if (ref === 'latest') {
      const meta = await this.store.modelMeta(model);
      if (!meta || meta.latest < 1) throw new NotFoundError('model', model);
      return meta.latest;
    }
    const version = await this.store.alias(model, ref);
    if (version === null) {
      const meta = await this.store.modelMeta(model);
      if (!meta) throw new NotFoundError('model', model);
      throw new NotFoundError('alias', `${model}@${ref}`, Object.keys(await this.store.aliases(model)));
    }
    return Number(version);
  }

  private async resolveArtifact(input: ParsedRegisterInput): Promise<ArtifactRef> {
    const where = `model "${input.name}"`;
    const art = input.artifact;
    const fallbackName = `model.${input.format.replace(/[^A-Za-z0-9_-]/g, '') || 'bin'}`;
    if ('uri' in art) {
      const result = await this.artifacts.verify(art.uri, art.sha256);
      if (!result.ok) throw new ArtifactChecksumError(where, art.uri, art.sha256, result.sha256);
      return { uri: art.uri, sha256: result.sha256, bytes: result.bytes, filename: art.filename ?? fallbackName };
    }
    const put = await this.artifacts.put('path' in art ? art.path : art.content);
    if (art.sha256 && art.sha256 !== put.sha256) throw new ArtifactChecksumError(where, put.uri, art.sha256, put.sha256);
    const fromPath = 'path' in art && /^[A-Za-z0-9._-]+$/.test(basename(art.path)) && basename(art.path) !== 'manifest.json' ? basename(art.path) : undefined;
    return { uri: put.uri, sha256: put.sha256, bytes: put.bytes, filename: art.filename ?? fromPath ?? fallbackName };
  }

  private nowIso(): string {
    return new Date(this.clock.now()).toISOString();
  }
}

/** Audit entries read per round trip when looking for a version's gates. */
const AUDIT_SCAN_BATCH = 200;

function toVersion(name: string, version: number, raw: string): ModelVersion {
  const record = JSON.parse(raw) as StoredRecord;
  // Versions registered before gates were stored have none: null, like "not evaluated".
  return { name, version, ...record, gates: record.gates ?? null };
}

function numberValues(record: Record<string, string>): Record<string, number> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, Number(v)]));
}

import { ConflictError, ConveyorError, NotFoundError } from '../errors/conveyor-error.ts';
import type { RedisClient } from './connection.ts';
import type { KeySpace } from './keys.ts';
import { defineScripts, type ScriptClient } from './lua-scripts.ts';

/**
 * Redis side of the model registry. Layout (P = prefix; every key of one model shares the hash tag
 * `{<name>}`, so each registry script touches one Cluster slot):
 *
 *   P:model:{<name>}            hash  name, createdAt, updatedAt, latest (version counter), auditSeq
 *   P:model:{<name>}:versions   hash  version number -> record JSON
 *   P:model:{<name>}:aliases    hash  alias -> version number
 *   P:model:{<name>}:audit      list  audit entries JSON, newest first
 *   P:model:{<name>}:idem       hash  idempotency key -> version number
 *   <global>:models             zset  model name -> first-registration ms (the list of models)
 *   <global>:registry:events    pub/sub channel: every alias move (audit entry JSON)
 *
 * The models index lives under the global tag, a different slot from any model, so no script can
 * update it together with a model. It is written by a separate ZADD NX *before* the registration
 * script: a model that exists is therefore always listed, and a crash in between leaves at worst a
 * listed name with no versions, which `listModels` skips and the next registration completes.
 */
export type { ModelKeys } from './keys.ts';

/** Keys of one model (built in keys.ts, the one place keys are spelled). */
export const modelKeys = (keys: KeySpace, name: string) => keys.model(name);

export function registryEventsChannel(keys: KeySpace): string {
  return keys.global('registry:events');
}

/** Compare-and-set on an alias failed: it points somewhere other than the caller expected. */
export class AliasConflictError extends ConflictError {
  constructor(model: string, alias: string, expected: number | null, found: number | null) {
    const show = (v: number | null) => (v === null ? 'unset' : `version ${v}`);
    super(`model "${model}" alias "${alias}": expected it at ${show(expected)}, found it at ${show(found)} (moved concurrently?)`, {
      model,
      alias,
      expected,
      found,
    });
  }
}

export type AliasScriptAction = 'set' | 'delete' | 'rollback';

interface ScriptContext {
  model: string;
  alias?: string;
  version?: number;
  expected?: number | null;
}

/** The one place that turns negative codes of the registry Lua scripts into typed errors. */
function scriptError(script: string, code: number, detail: string, ctx: ScriptContext): ConveyorError {
  const where = `model "${ctx.model}"`;
  if (script === 'registry-register' && code === -1) {
    return new ConflictError(`${where}: version slot ${detail} is already taken while the model's counter says otherwise; Redis lost data?`, { model: ctx.model, version: Number(detail) });
  }
  if (script === 'registry-move-alias') {
    switch (code) {
      case -1:
        return new NotFoundError('model', ctx.model);
      case -2:
        return new NotFoundError('model version', `${ctx.model}@${detail}`);
      case -3:
        return new AliasConflictError(ctx.model, ctx.alias ?? '', ctx.expected ?? null, detail === '' ? null : Number(detail));
      case -4:
        return new NotFoundError('alias', `${ctx.model}@${ctx.alias}`);
      case -5:
        return new ConflictError(`${where} alias "${ctx.alias}": nothing to roll back (no move of it in the audit log that is not rolled back already)`, { model: ctx.model, alias: ctx.alias });
    }
  }
  if (script === 'registry-append-audit' && code === -1) return new NotFoundError('model', ctx.model);
  return new ConveyorError('INTERNAL', `${script}: unexpected result code ${code} (${detail}) for ${where}`, { script, code });
}

const SCRIPTS = {
  registryRegister: 'registry-register.lua',
  registryMoveAlias: 'registry-move-alias.lua',
  registryAppendAudit: 'registry-append-audit.lua',
} as const;

export interface ModelMeta {
  name: string;
  createdAt: string;
  updatedAt: string;
  latest: number;
}

export class RegistryStore {
  private readonly scripts: ScriptClient<keyof typeof SCRIPTS>;

  constructor(
    readonly redis: RedisClient,
    readonly keys: KeySpace,
  ) {
    this.scripts = defineScripts(redis, SCRIPTS);
  }

  get eventsChannel(): string {
    return registryEventsChannel(this.keys);
  }

  /** Allocates the next version and stores `recordJson` under it. */
  async registerVersion(name: string, recordJson: string, nowIso: string, idempotencyKey = ''): Promise<{ version: number; created: boolean }> {
    const k = modelKeys(this.keys, name);
    await this.redis.zadd(this.keys.global('models'), 'NX', Date.parse(nowIso), name);
    const [code, detail] = (await this.scripts.registryRegister(k.model, k.versions, k.idem, name, nowIso, recordJson, idempotencyKey)) as [number, number];
    if (code < 0) throw scriptError('registry-register', code, String(detail), { model: name });
    return { version: code, created: detail === 1 };
  }

  /** Runs the alias script; returns the audit entry JSON it appended (and published). */
  async moveAlias(
    name: string,
    move: { action: AliasScriptAction; alias: string; version?: number; expected?: number | null; actor: string; nowIso: string; reason: string; detailsJson?: string },
  ): Promise<string> {
    const k = modelKeys(this.keys, name);
    const expected = move.expected === undefined ? '' : move.expected === null ? '-' : String(move.expected);
    const [code, detail] = (await this.scripts.registryMoveAlias(
      k.model, k.versions, k.aliases, k.audit,
      move.action, move.alias, move.version === undefined ? '' : String(move.version), expected, move.actor, move.nowIso, move.reason, name, this.eventsChannel, move.detailsJson ?? '',
    )) as [number, string];
    if (code < 0) throw scriptError('registry-move-alias', code, String(detail), { model: name, alias: move.alias, version: move.version, expected: move.expected });
    return detail;
  }

  /** Appends a non-move entry (deployment record); `entryJson` must be a non-empty object without `seq`. */
  async appendAudit(name: string, entryJson: string): Promise<string> {
    const k = modelKeys(this.keys, name);
    const [code, detail] = (await this.scripts.registryAppendAudit(k.model, k.audit, entryJson)) as [number, string];
    if (code < 0) throw scriptError('registry-append-audit', code, String(detail), { model: name });
    return detail;
  }

  async modelMeta(name: string): Promise<ModelMeta | undefined> {
    const raw = await this.redis.hgetall(modelKeys(this.keys, name).model);
    return toMeta(raw);
  }

  /** Meta and aliases of many models in one round trip; models with no record are left out. */
  async modelsWithAliases(names: string[]): Promise<{ meta: ModelMeta; aliases: Record<string, string> }[]> {
    // Separate commands, not one pipeline: each model has its own hash tag, and a Cluster client
    // refuses a pipeline spanning slots. Concurrent commands still go out back to back.
    const rows = await Promise.all(
      names.map(async (name) => {
        const k = modelKeys(this.keys, name);
        const [metaRaw, aliases] = await Promise.all([this.redis.hgetall(k.model), this.redis.hgetall(k.aliases)]);
        const meta = toMeta(metaRaw);
        return meta ? { meta, aliases } : undefined;
      }),
    );
    return rows.filter((row): row is { meta: ModelMeta; aliases: Record<string, string> } => row !== undefined);
  }

  async aliases(name: string): Promise<Record<string, string>> {
    return this.redis.hgetall(modelKeys(this.keys, name).aliases);
  }

  async alias(name: string, alias: string): Promise<string | null> {
    return this.redis.hget(modelKeys(this.keys, name).aliases, alias);
  }

  /** Record JSON of each requested version, null where missing, in the order asked. */
  async versionRecords(name: string, versions: number[]): Promise<(string | null)[]> {
    if (versions.length === 0) return [];
    return this.redis.hmget(modelKeys(this.keys, name).versions, ...versions.map(String));
  }

  async auditLength(name: string): Promise<number> {
    return this.redis.llen(modelKeys(this.keys, name).audit);
  }

  /** Audit entries JSON, newest first; `stop` inclusive, -1 = to the end. */
  async auditRange(name: string, start: number, stop: number): Promise<string[]> {
    return this.redis.lrange(modelKeys(this.keys, name).audit, start, stop);
  }

  async modelCount(): Promise<number> {
    return this.redis.zcard(this.keys.global('models'));
  }

  /** Model names in registration order. */
  async modelNames(offset: number, limit: number): Promise<string[]> {
    return this.redis.zrange(this.keys.global('models'), offset, offset + limit - 1);
  }

  /**
   * Subscribes to alias-move events from every process (scheduler, API live views). Uses its own
   * connection, because a subscribed ioredis client can run no other command. Returns a stop function.
   */
  async subscribe(onMessage: (json: string) => void): Promise<() => Promise<void>> {
    const subscriber = this.redis.duplicate();
    const channel = this.eventsChannel;
    subscriber.on('message', (from: string, message: string) => {
      if (from === channel) onMessage(message);
    });
    await subscriber.subscribe(channel);
    return async () => {
      await subscriber.unsubscribe(channel).catch(() => undefined);
      subscriber.disconnect();
    };
  }
}

function toMeta(raw: Record<string, string>): ModelMeta | undefined {
  if (!raw || !raw.name) return undefined;
  return { name: raw.name, createdAt: raw.createdAt, updatedAt: raw.updatedAt ?? raw.createdAt, latest: Number(raw.latest ?? 0) };
}

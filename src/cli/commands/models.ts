import { userInfo } from 'node:os';
import { Command } from 'commander';
import { withRuntime } from '../context.ts';
import { GatesFailedError, type AuditEntry, type ModelVersion } from '../../app/index.ts';
import { ValidationError } from '../../errors/index.ts';
import { bold, dim, formatTime, printJson, table } from '../output.ts';

const actor = () => {
  try {
    return `user:${userInfo().username}`;
  } catch {
    return 'user:unknown';
  }
};

const metricsText = (m: Record<string, unknown>) =>
  Object.entries(m)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? Number(v.toFixed(4)) : v}`)
    .join(' ');

function describeVersion(v: ModelVersion, aliases: Record<string, number>): string {
  const pointing = Object.entries(aliases).filter(([, n]) => n === v.version).map(([a]) => a);
  return [
    `${bold(`${v.name} v${v.version}`)}${pointing.length ? `  [${pointing.join(', ')}]` : ''}  ${dim(formatTime(v.createdAt))}`,
    `  artifact   ${v.artifact.uri} (${v.artifact.bytes} bytes, sha256 ${v.artifact.sha256.slice(0, 12)}…)`,
    `  framework  ${v.framework} / ${v.format}`,
    `  metrics    ${metricsText(v.metrics)}`,
    `  params     ${JSON.stringify(v.hyperparameters)}`,
    v.data ? `  data       ${v.data.source} rows=${v.data.rowCount} sha256 ${v.data.sha256.slice(0, 12)}…` : '',
    v.lineage ? `  lineage    run ${v.lineage.runId} step ${v.lineage.step} dag ${v.lineage.dagHash}` : '',
    v.gates ? `  gates      ${v.gates.passed ? 'passed' : `failed: ${v.gates.gates.filter((g) => !g.passed).map((g) => g.name).join(', ')}`}` : '',
  ].filter(Boolean).join('\n');
}

/** What an audit entry did, in operators' words: promote, promote (forced), rollback, delete, deploy (<outcome>). */
function auditAction(e: AuditEntry): string {
  if (e.action === 'set') return e.details?.forced === true ? 'promote (forced)' : 'promote';
  if (e.action === 'deploy') return `deploy (${typeof e.details?.outcome === 'string' ? e.details.outcome : '?'})`;
  return e.action;
}

const versionText = (v: number | null) => (v === null ? '-' : `v${v}`);

/** One row per audit entry, newest first: who moved which alias from where to where, when and why. */
const historyTable = (entries: AuditEntry[]) =>
  table(
    ['WHEN', 'ALIAS', 'ACTION', 'FROM', 'TO', 'BY', 'REASON'],
    entries.map((e) => [formatTime(e.at), e.alias, auditAction(e), versionText(e.from), versionText(e.to), e.actor, e.reason]),
  );

/** `conveyor models list | show | versions | promote | rollback | history`. */
export function modelsCommand(): Command {
  const models = new Command('models').description('the model registry: versions, aliases and their audit history');
  models.addCommand(
    new Command('list').description('every model with its latest version and aliases').option('--json', 'print JSON').action(async (opts: { json?: boolean }, cmd: Command) => {
      await withRuntime(cmd, async (rt) => {
        const page = await rt.registry.listModels({ limit: 500 });
        if (opts.json) return printJson(page.items);
        if (page.items.length === 0) return void process.stdout.write('no models registered\n');
        process.stdout.write(`${table(['MODEL', 'LATEST', 'ALIASES', 'UPDATED'], page.items.map((m) => [m.name, `v${m.latestVersion}`, Object.entries(m.aliases).map(([a, v]) => `${a}→v${v}`).join(' '), formatTime(m.updatedAt)]))}\n`);
      });
    }),
  );
  models.addCommand(
    new Command('show').description('a model version (default: latest; or a version number or alias)').argument('<name>').argument('[version]', 'number, alias or "latest"', 'latest').option('--json', 'print JSON')
      .action(async (name: string, ref: string, opts: { json?: boolean }, cmd: Command) => {
        await withRuntime(cmd, async (rt) => {
          const version = await rt.registry.get(name, ref);
          if (opts.json) return printJson(version);
          process.stdout.write(`${describeVersion(version, await rt.registry.aliases(name))}\n`);
        });
      }),
  );
  models.addCommand(
    new Command('versions').description('versions of a model, newest first').argument('<name>').option('--limit <n>', 'how many', (v) => Number.parseInt(v, 10), 20).option('--json', 'print JSON')
      .action(async (name: string, opts: { limit: number; json?: boolean }, cmd: Command) => {
        await withRuntime(cmd, async (rt) => {
          const page = await rt.registry.listVersions(name, { limit: opts.limit });
          if (opts.json) return printJson(page.items);
          const aliases = await rt.registry.aliases(name);
          process.stdout.write(`${table(['VERSION', 'ALIASES', 'METRICS', 'RUN', 'CREATED'], page.items.map((v) => [`v${v.version}`, Object.entries(aliases).filter(([, n]) => n === v.version).map(([a]) => a).join(' '), metricsText(v.metrics), v.lineage?.runId ?? '', formatTime(v.createdAt)]))}\n`);
        });
      }),
  );
  models.addCommand(
    new Command('promote').description('point an alias at a version (audited); a version whose evaluation gates failed is refused unless --force').argument('<name>').argument('<version>', 'version number').requiredOption('--alias <alias>', 'e.g. production, staging')
      .option('--reason <text>', 'why (kept in the audit log)', '').option('--force', 'promote even a version whose evaluation gates failed (the audit entry says forced)').option('--json', 'print JSON')
      .action(async (name: string, version: string, opts: { alias: string; reason: string; force?: boolean; json?: boolean }, cmd: Command) => {
        await withRuntime(cmd, async (rt) => {
          const event = await rt.registry.promote(name, opts.alias, version, { actor: actor(), reason: opts.reason, force: opts.force }).catch((error: unknown) => {
            throw error instanceof GatesFailedError ? new ValidationError(error.refusal('--force'), error.failed.map((g) => g.name), error.details) : error;
          });
          if (opts.json) return printJson(event);
          process.stdout.write(`${name}: ${opts.alias} ${versionText(event.from)} → ${versionText(event.to)}${event.details?.forced === true ? ' (forced past failed gates)' : ''}\n`);
        });
      }),
  );
  models.addCommand(
    new Command('rollback').description('undo the newest move of an alias not rolled back yet (audited); each further rollback goes one move further back').argument('<name>').requiredOption('--alias <alias>')
      .option('--reason <text>', 'why', '').option('--json', 'print JSON')
      .action(async (name: string, opts: { alias: string; reason: string; json?: boolean }, cmd: Command) => {
        await withRuntime(cmd, async (rt) => {
          const event = await rt.registry.rollback(name, opts.alias, actor(), opts.reason);
          if (opts.json) return printJson(event);
          process.stdout.write(`${name}: ${opts.alias} ${versionText(event.from)} → ${versionText(event.to)} (rollback)\n`);
        });
      }),
  );
  models.addCommand(
    new Command('history').description('alias moves (promotion, forced promotion, rollback, delete), newest first: when, who, from, to, why').argument('<name>').option('--alias <alias>', 'only this alias')
      .option('--all', 'also the deployment records (outcome of each deploy step, gate-blocked ones included)')
      .option('--limit <n>', 'how many', (v) => Number.parseInt(v, 10), 50).option('--json', 'print JSON: the audit entries { seq, at, actor, action, alias, from, to, reason, details? }')
      .action(async (name: string, opts: { alias?: string; all?: boolean; limit: number; json?: boolean }, cmd: Command) => {
        await withRuntime(cmd, async (rt) => {
          const page = await rt.registry.history(name, { alias: opts.alias, limit: opts.limit, movesOnly: !opts.all });
          if (opts.json) return printJson(page.items);
          process.stdout.write(page.items.length ? `${historyTable(page.items)}\n` : 'no history\n');
        });
      }),
  );
  return models;
}

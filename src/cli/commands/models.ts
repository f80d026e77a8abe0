import { userInfo } from 'node:os';
import { Command } from 'commander';
import { withRuntime } from '../context.ts';
import type { AuditEntry, ModelVersion } from '../../app/index.ts';
import { bold, dim, printJson, table } from '../output.ts';

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
    `${bold(`${v.name} v${v.version}`)}${pointing.length ? `  [${pointing.join(', ')}]` : ''}  ${dim(v.createdAt)}`,
    `  artifact   ${v.artifact.uri} (${v.artifact.bytes} bytes, sha256 ${v.artifact.sha256.slice(0, 12)}…)`,
    `  framework  ${v.framework} / ${v.format}`,
    `  metrics    ${metricsText(v.metrics)}`,
    `  params     ${JSON.stringify(v.hyperparameters)}`,
    v.data ? `  data       ${v.data.source} rows=${v.data.rowCount} sha256 ${v.data.sha256.slice(0, 12)}…` : '',
    v.lineage ? `  lineage    run ${v.lineage.runId} step ${v.lineage.step} dag ${v.lineage.dagHash}` : '',
  ].filter(Boolean).join('\n');
}

const describeAudit = (e: AuditEntry) =>
  `${e.at}  ${e.action.padEnd(8)} ${e.alias}: ${e.from ?? '∅'} → ${e.to ?? '∅'}  by ${e.actor}${e.reason ? `  "${e.reason}"` : ''}`;

/** `conveyor models list | show | versions | promote | rollback | history`. */
export function modelsCommand(): Command {
  const models = new Command('models').description('the model registry: versions, aliases and their audit history');
  models.addCommand(
    new Command('list').description('every model with its latest version and aliases').option('--json', 'print JSON').action(async (opts: { json?: boolean }, cmd: Command) => {
      await withRuntime(cmd, async (rt) => {
        const page = await rt.registry.listModels({ limit: 500 });
        if (opts.json) return printJson(page.items);
        if (page.items.length === 0) return void process.stdout.write('no models registered\n');
        process.stdout.write(`${table(['MODEL', 'LATEST', 'ALIASES', 'UPDATED'], page.items.map((m) => [m.name, `v${m.latestVersion}`, Object.entries(m.aliases).map(([a, v]) => `${a}→v${v}`).join(' '), m.updatedAt]))}\n`);
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
          process.stdout.write(`${table(['VERSION', 'ALIASES', 'METRICS', 'RUN', 'CREATED'], page.items.map((v) => [`v${v.version}`, Object.entries(aliases).filter(([, n]) => n === v.version).map(([a]) => a).join(' '), metricsText(v.metrics), v.lineage?.runId ?? '', v.createdAt]))}\n`);
        });
      }),
  );
  models.addCommand(
    new Command('promote').description('point an alias at a version (audited)').argument('<name>').argument('<version>', 'version number').requiredOption('--alias <alias>', 'e.g. production, staging')
      .option('--reason <text>', 'why (kept in the audit log)', '').option('--json', 'print JSON')
      .action(async (name: string, version: string, opts: { alias: string; reason: string; json?: boolean }, cmd: Command) => {
        await withRuntime(cmd, async (rt) => {
          const resolved = await rt.registry.get(name, version);
          const event = await rt.registry.setAlias(name, opts.alias, resolved.version, { actor: actor(), reason: opts.reason });
          if (opts.json) return printJson(event);
          process.stdout.write(`${name}: ${opts.alias} ${event.from ?? '∅'} → ${event.to}\n`);
        });
      }),
  );
  models.addCommand(
    new Command('rollback').description('move an alias back to the version it pointed at before its last move (audited)').argument('<name>').requiredOption('--alias <alias>')
      .option('--reason <text>', 'why', '').option('--json', 'print JSON')
      .action(async (name: string, opts: { alias: string; reason: string; json?: boolean }, cmd: Command) => {
        await withRuntime(cmd, async (rt) => {
          const event = await rt.registry.rollback(name, opts.alias, actor(), opts.reason);
          if (opts.json) return printJson(event);
          process.stdout.write(`${name}: ${opts.alias} ${event.from ?? '∅'} → ${event.to ?? '∅'} (rollback)\n`);
        });
      }),
  );
  models.addCommand(
    new Command('history').description('audit log of alias moves and deployments, newest first').argument('<name>').option('--alias <alias>', 'only this alias')
      .option('--limit <n>', 'how many', (v) => Number.parseInt(v, 10), 50).option('--json', 'print JSON')
      .action(async (name: string, opts: { alias?: string; limit: number; json?: boolean }, cmd: Command) => {
        await withRuntime(cmd, async (rt) => {
          const page = await rt.registry.history(name, { alias: opts.alias, limit: opts.limit });
          if (opts.json) return printJson(page.items);
          process.stdout.write(page.items.length ? `${page.items.map(describeAudit).join('\n')}\n` : 'no history\n');
        });
      }),
  );
  return models;
}

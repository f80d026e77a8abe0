import { Command } from 'commander';
import { configFrom, withRuntime } from '../context.ts';
import { loadPipelines } from '../../app/index.ts';
import { pipelineVersions } from '../../app/pipeline-versions.ts';
import { bold, dim, green, printJson, red, table, yellow } from '../output.ts';

const short = (hash: string) => hash.slice(0, 12);

/**
 * `conveyor pipelines`: which versions of each pipeline live workers serve, next to the local files'
 * versions, and active runs pinned to a version no live worker serves.
 */
export function pipelinesListCommand(): Command {
  return new Command('pipelines')
    .description('list pipeline versions served by live workers, the local files\' versions, and runs pinned to an unserved version')
    .option('--json', 'machine-readable: { pipelines: [{ id, file?, localHash?, versions: [{ hash, local, workers }] }], workers, unservedRuns, problems }')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const config = configFrom(command);
      const loaded = await loadPipelines(config.pipelinesDir, { importTimeoutMs: config.pipelineImportTimeoutMs });
      const report = await withRuntime(command, (runtime) => pipelineVersions(runtime, loaded));
      if (opts.json) {
        printJson({
          pipelines: report.pipelines,
          workers: report.workers.map((w) => ({ id: w.id, host: w.host, queues: w.queues, running: w.running, lastSeen: w.lastSeen })),
          unservedRuns: report.unservedRuns,
          waiting: report.waiting,
          problems: loaded.problems,
        });
        return;
      }
      const rows: string[][] = [];
      for (const p of report.pipelines) {
        for (const v of p.versions) {
          const where = v.local ? (p.file ?? 'local') : dim('not in local files');
          const served = v.workers.length ? green(v.workers.map((w) => w.id).join(', ')) : red('not served by any live worker');
          rows.push([p.id, short(v.hash), where, served, v.codeVersions.join(', ') || dim('-')]);
        }
      }
      process.stdout.write(`${table(['PIPELINE', 'VERSION', 'LOCAL', 'WORKERS', 'CODE'], rows)}\n`);
      process.stdout.write(dim(`${report.workers.length} live worker(s)\n`));
      if (report.unservedRuns.length) {
        process.stdout.write(`\n${bold(yellow('Active runs pinned to a version no live worker serves:'))}\n`);
        for (const run of report.unservedRuns) {
          const others = run.servedHashes.length ? `served versions: ${run.servedHashes.map(short).join(', ')}` : 'no worker serves this pipeline';
          process.stdout.write(`  ${run.runId}  ${run.pipeline}@${short(run.dagHash)}  ${run.status}  ${dim(others)}\n`);
        }
      }
      if (report.waiting.length) {
        process.stdout.write(`\n${bold(yellow('Steps waiting for a worker with their code:'))}\n`);
        for (const w of report.waiting) {
          const who = w.workers.length ? green(`served by ${w.workers.join(', ')}`) : red('no live worker has this version');
          process.stdout.write(`  ${w.waitingFor}  ${w.steps} step(s)  runs: ${w.runs.join(', ')}  ${who}\n`);
        }
      }
      for (const problem of loaded.problems) process.stderr.write(`${red('✗')} ${problem.message}\n`);
    });
}

import { Command, Option } from 'commander';
import { configFrom } from '../context.ts';
import { loadPipelines, renderDag, resolvePipeline, typecheckPipelines, validateDag, type GraphFormat } from '../../app/index.ts';
import { printJson, red, green, dim } from '../output.ts';

/** `conveyor validate [path]`: exit 0 when every pipeline is valid, 1 with the errors otherwise. */
export function validateCommand(): Command {
  return new Command('validate')
    .description('check pipeline files (syntax, ids, DAG, params defaults, types with the project\'s tsconfig) without touching Redis')
    .argument('[path]', 'pipelines folder or file (default: --pipelines / CONVEYOR_PIPELINES / ./pipelines)')
    .option('--json', 'machine-readable result: { valid, pipelines: [...], errors: [{ file, line?, column?, code, message }], typecheck }')
    .option('--no-typecheck', 'skip the type check (tsc with the nearest tsconfig.json and the project\'s TypeScript)')
    .action(async (path: string | undefined, opts: { json?: boolean; typecheck: boolean }, command: Command) => {
      const config = configFrom(command);
      const target = path ?? config.pipelinesDir;
      const loaded = await loadPipelines(target, { importTimeoutMs: config.pipelineImportTimeoutMs });
      const typecheck = opts.typecheck ? await typecheckPipelines(target) : ({ status: 'skipped', reason: '--no-typecheck' } as const);
      const errors = [...loaded.problems, ...(typecheck.status === 'checked' ? typecheck.problems : [])];
      const valid = errors.length === 0;
      if (opts.json) {
        printJson({
          valid,
          pipelines: loaded.pipelines.map((p) => ({ id: p.id, file: loaded.files.get(p.id), steps: p.spec.steps.length, dagHash: validateDag(p.spec).hash })),
          errors,
          typecheck: typecheck.status === 'checked' ? { status: 'checked' } : typecheck,
        });
      } else {
        for (const p of loaded.pipelines) process.stdout.write(`${green('✓')} ${p.id} ${dim(`(${loaded.files.get(p.id)}, ${p.spec.steps.length} steps)`)}\n`);
        for (const problem of errors) process.stderr.write(`${red('✗')} ${problem.message}\n`);
        if (typecheck.status === 'skipped' && opts.typecheck) process.stderr.write(dim(`types not checked: ${typecheck.reason}\n`));
        if (loaded.pipelines.length === 0 && valid) process.stderr.write(`no pipeline files found in ${target}\n`);
      }
      // Broken or missing pipeline files are bad input: exit 2, as for every command (README, --help).
      process.exitCode = valid && loaded.pipelines.length > 0 ? 0 : 2;
    });
}

/** `conveyor graph <pipeline>`. */
export function graphCommand(): Command {
  return new Command('graph')
    .description('print the DAG of a pipeline')
    .argument('<pipeline>', 'pipeline id (from the pipelines folder) or path to a pipeline file')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'mermaid', 'dot']).default('text'))
    .action(async (idOrPath: string, opts: { format: GraphFormat }, command: Command) => {
      const { pipeline } = await resolvePipeline(idOrPath, configFrom(command).pipelinesDir);
      process.stdout.write(`${renderDag(validateDag(pipeline.spec), opts.format)}\n`);
    });
}

import { Command } from 'commander';
import { relative } from 'node:path';
import { scaffoldProject } from '../scaffold.ts';

/** `conveyor init [dir]`: a new pipelines project (package, tsconfig, example, test, compose file). */
export function initCommand(): Command {
  return new Command('init')
    .description('create a pipelines project: package.json, tsconfig, an example pipeline and its test, compose file')
    .argument('[dir]', 'folder to create it in', '.')
    .option('--conveyor <from>', 'where package.json gets conveyor-mlops: a version range (default: this version), or the tarball from `npm pack` / a folder (written as file:)')
    .action((dir: string, opts: { conveyor?: string }) => {
      const project = scaffoldProject(dir, { conveyorFrom: opts.conveyor });
      const where = relative(process.cwd(), project.dir);
      process.stdout.write(
        [
          `created ${project.name}: ${project.files.join(', ')}`,
          `conveyor-mlops: ${project.conveyorSpec}`,
          '',
          'next:',
          ...(where ? [`  cd ${where}`] : []),
          '  npm install && npx conveyor dev --run example-training',
          '  npm test',
          '',
        ].join('\n'),
      );
    });
}

import { Command } from 'commander';
import { relative } from 'node:path';
import { scaffoldProject } from '../scaffold.ts';

/** `conveyor init [dir]`: a new pipelines project (package, tsconfig, example, test, compose file). */
export function initCommand(): Command {
  return new Command('init')
    .description('create a pipelines project: package.json, tsconfig, an example pipeline and its test, compose file')
    .argument('[dir]', 'folder to create it in', '.')
    .action((dir: string) => {
      const project = scaffoldProject(dir);
      const where = relative(process.cwd(), project.dir);
      process.stdout.write(
        [
          `created ${project.name}: ${project.files.join(', ')}`,
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

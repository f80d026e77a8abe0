/** The package every pipeline file imports; installing it also brings tsx, which loads the files. */
const CONVEYOR_PACKAGE = 'conveyor-mlops';

/**
 * One line for a pipeline file whose import cannot be resolved: which package is missing, where Node
 * looked, and the command that fixes it. Undefined when the error is something else.
 */
export function missingPackage(error: Error): string | undefined {
  const found = /Cannot find (?:package|module) '([^']+)' imported from (\S+)/.exec(error.message);
  if (!found || found[1].startsWith('.') || found[1].startsWith('/')) return undefined;
  const name = packageName(found[1]);
  const fix = name === CONVEYOR_PACKAGE
    ? `npm install ${CONVEYOR_PACKAGE} (in the folder of the package.json that holds your pipelines)`
    : `npm install ${name} (next to your pipelines' package.json; ${CONVEYOR_PACKAGE} does not provide it to your files)`;
  return `cannot find the package "${name}" that this file imports; install it: ${fix}`;
}

/** `@scope/name/sub` → `@scope/name`; `name/sub` → `name`. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

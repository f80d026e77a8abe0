import type { Pipeline } from './pipeline.ts';

/**
 * The code version of a loaded pipeline: a hash of its module's source and the local files it
 * imports (computed by the loader, which knows the file). Kept beside the definition object rather
 * than in its spec: the spec is what the DAG hash covers, and the same spec may run different code.
 */
const versions = new WeakMap<Pipeline<any, any>, string>();

export function setCodeVersion(pipeline: Pipeline<any, any>, version: string): void {
  versions.set(pipeline, version);
}

/** Undefined for a pipeline that was not loaded from a file (built in code, e.g. in tests). */
export function codeVersionOf(pipeline: Pipeline<any, any>): string | undefined {
  return versions.get(pipeline);
}

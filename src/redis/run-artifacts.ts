import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { artifactContentType, artifactNameProblem, contentTypeProblem } from '../core/artifact-name.ts';
import { defineScripts, type ScriptClient } from './lua-scripts.ts';
import { NotFoundError, ValidationError } from '../errors/conveyor-error.ts';
import type { ArtifactMeta, RunArtifactReader } from '../domain/api-facing.ts';
import type { KeySpace } from './keys.ts';

/** Bytes one artifact may hold: reports and small plots, not datasets (those belong in object storage). */
export const MAX_ARTIFACT_BYTES = 1024 * 1024;
/** Artifacts one run may hold. */
export const MAX_ARTIFACTS_PER_RUN = 50;

export type { ArtifactMeta } from '../domain/api-facing.ts';

/**
 * Files a run's steps keep (`ctx.artifacts.put`): metadata in `run:{id}:art`, bytes in `run:{id}:artd`,
 * both keyed by the artifact's name. They are run keys: they expire and are pruned with the run. A
 * name is a hash field, never a path, so reading one cannot reach anything outside its run.
 */
export class RunArtifacts implements RunArtifactReader {
  private readonly scripts: ScriptClient<'artifactPut'>;

  constructor(
    private readonly redis: Redis,
    private readonly keys: KeySpace,
  ) {
    this.scripts = defineScripts(redis, { artifactPut: 'artifact-put.lua' });
  }

  async put(runId: string, step: string, name: string, content: string | Uint8Array, contentType?: string, now = Date.now()): Promise<ArtifactMeta> {
    const problem = artifactNameProblem(name);
    if (problem) throw new ValidationError(`artifact of step "${step}" in run ${runId}: ${problem}`);
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content.buffer, content.byteOffset, content.byteLength);
    if (bytes.length > MAX_ARTIFACT_BYTES) {
      throw new ValidationError(`artifact "${name}" of step "${step}" in run ${runId}: expected at most ${MAX_ARTIFACT_BYTES} bytes, found ${bytes.length} (put large files in object storage and keep their URI in the step output)`);
    }
    const typeProblem = contentType === undefined ? undefined : contentTypeProblem(contentType);
    if (typeProblem) throw new ValidationError(`artifact "${name}" of step "${step}" in run ${runId}: ${typeProblem}`);
    const k = this.keys.run(runId);
    const meta: ArtifactMeta = {
      name,
      step,
      contentType: contentType ?? artifactContentType(name),
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      createdAt: now,
    };
    const count = await this.scripts.artifactPut(k.artifacts, k.artifactData, name, JSON.stringify(meta), bytes, MAX_ARTIFACTS_PER_RUN);
    if (count === 0) {
      throw new ValidationError(`artifact "${name}" of step "${step}" in run ${runId}: a run keeps at most ${MAX_ARTIFACTS_PER_RUN} artifacts and this one has that many`);
    }
    return meta;
  }

  /** The run's artifacts, by name. */
  async list(runId: string): Promise<ArtifactMeta[]> {
    const all = await this.redis.hgetall(this.keys.run(runId).artifacts);
    return Object.values(all)
      .map((json) => JSON.parse(json) as ArtifactMeta)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** One artifact's metadata and bytes; NotFoundError when the run has no artifact of that name. */
  async get(runId: string, name: string): Promise<{ meta: ArtifactMeta; content: Buffer }> {
    const problem = artifactNameProblem(name);
    if (problem) throw new ValidationError(`artifact of run ${runId}: ${problem}`);
    const k = this.keys.run(runId);
    const [json, content] = await Promise.all([this.redis.hget(k.artifacts, name), this.redis.hgetBuffer(k.artifactData, name)]);
    if (json === null || content === null) throw new NotFoundError(`artifact of run ${runId}`, name);
    return { meta: JSON.parse(json) as ArtifactMeta, content };
  }
}

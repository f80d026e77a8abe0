/**
 * `npx tsx bench/s3-artifacts.ts [MiB]` (default 1024): uploads an artifact of that size to an S3-protocol
 * server (s3rver, started here in its own process), streams it back through the verifying reader, and
 * prints the RSS growth of the process doing it during each half, plus the time each took. The CI
 * test runs the same round trip on a smaller file; this is the opt-in 1 GiB run behind BENCHMARKS.md.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../test/fixtures/procs.ts';
import { writeRandomFile } from '../test/helpers/big-file.ts';
import { startTestS3 } from '../test/helpers/s3-server.ts';

const mib = Number(process.argv[2] ?? 1024);
const s3 = await startTestS3();
const dir = await mkdtemp(join(tmpdir(), 'conveyor-bench-s3-'));
try {
  await s3.createBucket('artifacts');
  const file = join(dir, 'artifact.bin');
  process.stderr.write(`writing ${mib} MiB of random bytes…\n`);
  await writeRandomFile(file, mib);
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/fixtures/s3-artifact-main.ts'), 'roundtrip', file], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...s3.env, CONVEYOR_ARTIFACTS: 's3://artifacts/bench' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((res) => child.once('exit', res));
  if (code !== 0) throw new Error(`round trip exited with ${code}`);
  const result = JSON.parse(out.trim().split('\n').pop()!) as { bytes: number; uploadRssGrowth: number; downloadRssGrowth: number; uploadMs: number; downloadMs: number };
  const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
  process.stdout.write(
    `artifact ${mb(result.bytes)}: upload RSS growth ${mb(result.uploadRssGrowth)} in ${(result.uploadMs / 1000).toFixed(1)} s, ` +
      `download RSS growth ${mb(result.downloadRssGrowth)} in ${(result.downloadMs / 1000).toFixed(1)} s (whole run ${((Date.now() - started) / 1000).toFixed(1)} s)\n`,
  );
} finally {
  await s3.destroy();
  await rm(dir, { recursive: true, force: true });
}

/**
 * `npm run soak`: the full load scenario — 200 concurrent runs of a 20-step DAG on 4 worker processes,
 * a random worker SIGKILLed every 2 s and restarted — against a private Redis. Prints the figures and
 * exits 1 if any run did not succeed, a step was lost, or a step ran after its success was recorded.
 * Env: SOAK_RUNS (200), SOAK_WORKERS (4), SOAK_KILL_EVERY_MS (2000).
 */
import { startTestRedis } from '../helpers/redis-server.ts';
import { formatReport, runLoad } from '../fixtures/load-driver.ts';

const runs = Number(process.env.SOAK_RUNS ?? 200);
const workers = Number(process.env.SOAK_WORKERS ?? 4);
const killEveryMs = Number(process.env.SOAK_KILL_EVERY_MS ?? 2_000);

const redis = await startTestRedis();
try {
  const report = await runLoad({
    redisUrl: redis.url, runs, workers, concurrency: 5, killEveryMs, maxSleepMs: 300, timeoutMs: 15 * 60_000,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${formatReport(report)}\n`);
  for (const run of report.notSucceeded) process.stdout.write(`not succeeded: ${run.id} ${run.status} ${JSON.stringify(run.failedSteps)}\n`);
  const ok = report.succeeded === report.runs && report.lost === 0 && report.afterSuccess === 0;
  process.stdout.write(ok ? 'soak: OK\n' : 'soak: FAILED\n');
  process.exitCode = ok ? 0 : 1;
} finally {
  await redis.destroy();
}

import test from 'ava';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { buildProgram } from '../../src/cli/main.ts';
import { ENV_NAMES } from '../../src/config/schema.ts';
import { loadConfig } from '../../src/config/load.ts';
import { parseDuration } from '../../src/core/duration.ts';
import { KeySpace } from '../../src/redis/keys.ts';
import { envOf, instructions, parseDockerfile, runCommands } from '../helpers/dockerfile.ts';
import { startMetricsServer } from '../../src/monitoring/metrics-server.ts';
import type { MetricsHub } from '../../src/monitoring/metrics-hub.ts';

/**
 * The deployment files are checked against the code they deploy: commands, flags, env names, ports,
 * probe paths and queue keys must be ones the code actually has, so a rename in src/ breaks this test
 * instead of a rollout.
 */

const defaults = loadConfig({}, {});
const program = await buildProgram();
const commands = new Map(program.commands.map((c) => [c.name(), c]));
const ENV = new Set(ENV_NAMES);
const read = (path: string) => readFileSync(path, 'utf8');

type Dict = Record<string, any>;

/** Checks a container's argv: a real CLI command with real flags, or a workers/*.ts entry point that exists. */
function checkArgv(argv: string[], where: string): string[] {
  const problems: string[] = [];
  if (argv[0] === 'node') {
    const script = argv.find((a, i) => i > 0 && !a.startsWith('-') && argv[i - 1] !== '--import');
    if (!argv.includes('tsx')) problems.push(`${where}: node without --import tsx cannot run ${script}`);
    if (!script || !/^workers\/[\w-]+\.ts$/.test(script) || !existsSync(script)) problems.push(`${where}: entry point ${script} does not exist in workers/`);
    return problems;
  }
  const [name, ...rest] = argv;
  const command = commands.get(name);
  if (!command) return [`${where}: "${name}" is not a conveyor command (known: ${[...commands.keys()].join(', ')})`];
  const flags = new Set([...command.options, ...program.options].flatMap((o) => [o.long, o.short]).filter(Boolean));
  flags.add('--help');
  for (const arg of rest) {
    if (arg.startsWith('-') && !flags.has(arg.split('=')[0])) problems.push(`${where}: "${name}" has no option ${arg}`);
  }
  return problems;
}

/** The value given to `flag` in an argv (`--flag value`). */
const argAfter = (argv: string[], flag: string): string | undefined => argv[argv.indexOf(flag) + 1];

/** The queues a container serves: `--queues a,b`, or the `queues: [...]` of its workers/*.ts entry point. */
function queuesOf(argv: string[]): string[] {
  const at = argv.indexOf('--queues');
  if (at >= 0) return argv[at + 1].split(',');
  const script = argv.find((a) => a.startsWith('workers/'));
  const match = script ? /queues:\s*\[([^\]]*)\]/.exec(read(script)) : null;
  return match ? [...match[1].matchAll(/'([^']+)'/g)].map((m) => m[1]) : [];
}

// ------------------------------------------------------------------------------------------------
// Dockerfile

const dockerfile = parseDockerfile(read('Dockerfile'));
const { stages } = dockerfile;
const finalStage = stages[stages.length - 1];
const checkStage = stages.find((s) => s.name === 'check');

test('Dockerfile: node:22-bookworm-slim, full npm ci to check, npm ci --omit=dev at run time (tsx is a runtime dependency)', (t) => {
  t.is(dockerfile.globalArgs.NODE_IMAGE, 'node:22-bookworm-slim');
  const named = new Set(stages.map((s) => s.name));
  t.true(stages.every((s) => s.name && (s.from === '${NODE_IMAGE}' || named.has(s.from))), 'every stage builds on the node:22-bookworm-slim base');
  t.true(stages.some((s) => runCommands(s).some((c) => c.startsWith('npm ci') && !c.includes('--omit'))), 'a stage installs the full tree');
  t.true(runCommands(finalStage).some((c) => c.startsWith('npm ci --omit=dev')));
  const pkg = JSON.parse(read('package.json'));
  t.truthy(pkg.dependencies.tsx, 'tsx must be in dependencies, or `npm ci --omit=dev` leaves the CLI unable to start');
  t.true(instructions(finalStage, 'COPY').some((c) => c.flags.from === 'check'), 'the runtime stage depends on the validation stage, so BuildKit runs it');
  t.truthy(checkStage);
  t.true(runCommands(checkStage!).includes('node bin/conveyor.js validate pipelines'));
});

test('Dockerfile: runs as a non-root user, copies what the processes load, entry point is the CLI', (t) => {
  const user = instructions(finalStage, 'USER').pop()?.args[0];
  t.truthy(user);
  t.not(user, 'root');
  t.not(user, '0');
  const copied = instructions(finalStage, 'COPY').filter((c) => !c.flags.from).flatMap((c) => c.args.slice(0, -1));
  for (const dir of ['bin', 'src', 'pipelines', 'workers', 'data', 'scripts']) t.true(copied.includes(dir), `COPY ${dir}`);
  for (const source of copied) t.true(existsSync(source), `COPY source ${source} exists`);
  t.deepEqual(instructions(finalStage, 'ENTRYPOINT').pop()?.args, ['node', 'bin/conveyor.js']);
  t.true(existsSync('bin/conveyor.js'));
  const cmd = instructions(finalStage, 'CMD').pop()!.args;
  t.deepEqual(checkArgv(cmd, 'Dockerfile CMD'), []);
  const health = instructions(finalStage, 'HEALTHCHECK').pop()?.cmd?.args ?? [];
  t.deepEqual(health.slice(0, 2), ['node', '-e']);
  t.true(health[2]?.includes(`(process.env.CONVEYOR_METRICS_PORT || ${defaults.metricsPort}) + '/healthz'`), health[2]);
  const env = envOf(finalStage);
  t.is(env.CONVEYOR_METRICS_PORT, String(defaults.metricsPort));
  t.is(env.CONVEYOR_API_PORT, String(defaults.apiPort));
});

test('.dockerignore keeps local state and git out, and nothing the image needs', (t) => {
  const ignored = read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  for (const needed of ['node_modules', '.git', '.conveyor']) t.true(ignored.includes(needed), `${needed} is ignored`);
  for (const kept of ['bin', 'src', 'pipelines', 'workers', 'data', 'scripts', 'package.json', 'package-lock.json', 'tsconfig.json']) {
    t.false(ignored.includes(kept), `${kept} is sent to the build`);
  }
});

// ------------------------------------------------------------------------------------------------
// docker-compose.yml

const compose = parse(read('docker-compose.yml'), { merge: true }) as Dict;
const services = compose.services as Record<string, Dict>;
const conveyorServices = Object.entries(services).filter(([, s]) => s.image === 'conveyor:local');

test('compose: the stack has redis, scalable workers, scheduler, api, prometheus and grafana', (t) => {
  for (const name of ['redis', 'worker', 'worker-training', 'scheduler', 'api', 'prometheus', 'grafana']) t.truthy(services[name], name);
  t.deepEqual(services.redis.image, 'redis:7');
});

test('compose: every Conveyor service runs a real command (CLI command + flags, or a workers/*.ts file)', (t) => {
  t.true(conveyorServices.length >= 4);
  for (const [name, service] of conveyorServices) {
    // Without an entrypoint override the image runs `node bin/conveyor.js <command>`.
    const argv = [...(service.entrypoint ?? []), ...service.command];
    t.deepEqual(checkArgv(argv, `compose service ${name}`), []);
  }
  t.deepEqual(services.worker.command.slice(0, 1), ['worker']);
  t.deepEqual(services.scheduler.command, ['scheduler']);
  t.deepEqual(services.api.command, ['serve']);
  t.true(commands.has('scheduler'), 'conveyor scheduler exists');
  t.true(commands.has('serve'), 'conveyor serve exists');
});

test('compose: every env name is one the config reads; the API token comes from the environment', (t) => {
  for (const [name, service] of conveyorServices) {
    for (const key of Object.keys(service.environment ?? {})) t.true(ENV.has(key), `${name}: ${key} is not in ENV_NAMES`);
    t.is(String(service.environment.CONVEYOR_METRICS_PORT), String(defaults.metricsPort), `${name}: metrics port`);
    t.true(parseDuration(service.stop_grace_period)! >= parseDuration(service.environment.CONVEYOR_DRAIN_TIMEOUT)! + 5_000, `${name}: stop_grace_period >= drain timeout + 5 s`);
  }
  t.regex(services.api.environment.CONVEYOR_API_TOKEN, /^\$\{CONVEYOR_API_TOKEN:\?/);
});

test('compose: workers and scheduler scale (no container_name, no host ports); scheduler runs 2 replicas', (t) => {
  for (const name of ['worker', 'worker-training', 'scheduler']) {
    t.is(services[name].container_name, undefined, `${name} has no container_name`);
    t.is(services[name].ports, undefined, `${name} publishes no host port`);
  }
  t.true(services.scheduler.deploy.replicas >= 2);
});

test('compose: api on the configured port with a /healthz check; redis persistent with noeviction', (t) => {
  t.true(services.api.ports.some((p: string) => p.endsWith(`:${defaults.apiPort}`)));
  t.is(String(services.api.environment.CONVEYOR_API_PORT), String(defaults.apiPort));
  t.regex(services.api.healthcheck.test.join(' '), new RegExp(`127\\.0\\.0\\.1:${defaults.apiPort}/healthz`));
  t.is(argAfter(services.redis.command, '--appendonly'), 'yes');
  t.is(argAfter(services.redis.command, '--maxmemory-policy'), 'noeviction');
  t.true(services.redis.volumes.some((v: string) => v.endsWith(':/data')));
  t.truthy(services.redis.healthcheck);
  t.is(services.worker.depends_on.redis.condition, 'service_healthy');
});

test('compose: prometheus and grafana mount the files that exist; prometheus scrapes the metrics port', (t) => {
  for (const service of [services.prometheus, services.grafana]) {
    for (const volume of service.volumes as string[]) {
      const host = volume.split(':')[0];
      if (host.startsWith('./')) t.true(existsSync(host), `${host} exists`);
    }
  }
  const mounted = [...services.prometheus.volumes, ...services.grafana.volumes].join(' ');
  for (const path of ['./deploy/prometheus/prometheus.yml', './deploy/prometheus/alerts.yml', './deploy/grafana/provisioning', './deploy/grafana/dashboards']) {
    t.true(mounted.includes(path), `${path} mounted`);
  }
  const prometheus = parse(read('deploy/prometheus/prometheus.yml')) as Dict;
  const ports = (prometheus.scrape_configs as Dict[]).flatMap((job) => [
    ...(job.dns_sd_configs ?? []).map((d: Dict) => d.port),
    ...(job.static_configs ?? []).flatMap((s: Dict) => s.targets.map((target: string) => Number(target.split(':')[1]))),
  ]);
  t.true(ports.length > 0);
  t.true(ports.every((p: number) => p === defaults.metricsPort), `scrape ports ${ports.join(', ')}`);
  const jobs = JSON.stringify(prometheus.scrape_configs);
  for (const name of ['worker', 'worker-training', 'scheduler', 'api']) t.true(jobs.includes(name), `prometheus scrapes ${name}`);
});

// ------------------------------------------------------------------------------------------------
// Kubernetes

const K8S = 'deploy/k8s';
const manifests = readdirSync(K8S)
  .filter((f) => /\.ya?ml$/.test(f))
  .flatMap((file) => parseAllDocuments(read(join(K8S, file))).map((d) => ({ file, doc: d.toJS() as Dict })))
  .filter((m) => m.doc);
const kinds = (kind: string) => manifests.filter((m) => m.doc.kind === kind).map((m) => m.doc);
const deployment = (name: string) => kinds('Deployment').find((d) => d.metadata.name === name)!;
const configMap = kinds('ConfigMap').find((c) => c.metadata.name === 'conveyor-config')!;

test('k8s: the kustomization lists every manifest, and every manifest parses', (t) => {
  const kustomization = parse(read(join(K8S, 'kustomization.yaml'))) as Dict;
  const files = readdirSync(K8S).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml').sort();
  t.deepEqual([...kustomization.resources].sort(), files);
  t.true(manifests.every((m) => typeof m.doc.kind === 'string' && m.doc.apiVersion), 'every document has kind and apiVersion');
  const imageName = kustomization.images[0].name;
  for (const d of kinds('Deployment')) {
    for (const c of d.spec.template.spec.containers) t.is(c.image, imageName, `${d.metadata.name} uses the kustomized image`);
  }
});

test('k8s: every container runs a real command, every env name is one the config reads', (t) => {
  for (const name of Object.keys(configMap.data)) t.true(ENV.has(name), `ConfigMap key ${name}`);
  for (const secret of kinds('Secret')) for (const name of Object.keys(secret.stringData ?? {})) t.true(ENV.has(name), `Secret key ${name}`);
  for (const d of kinds('Deployment')) {
    for (const c of d.spec.template.spec.containers) {
      const argv = c.command ?? c.args;
      t.deepEqual(checkArgv(argv, `Deployment ${d.metadata.name}`), []);
      for (const e of c.env ?? []) t.true(ENV.has(e.name), `${d.metadata.name}: env ${e.name}`);
    }
  }
  t.deepEqual(deployment('scheduler').spec.template.spec.containers[0].args, ['scheduler']);
  t.deepEqual(deployment('api').spec.template.spec.containers[0].args, ['serve']);
});

test('k8s: workers probe /healthz on the metrics port and get more grace than their drain timeout', (t) => {
  for (const name of ['worker-default', 'worker-training']) {
    const spec = deployment(name).spec.template.spec;
    const container = spec.containers[0];
    const port = (ref: string | number) => (typeof ref === 'number' ? ref : container.ports.find((p: Dict) => p.name === ref).containerPort);
    for (const probe of [container.readinessProbe, container.livenessProbe]) {
      t.is(probe.httpGet.path, '/healthz');
      t.is(port(probe.httpGet.port), defaults.metricsPort);
    }
    const drain = container.env?.find((e: Dict) => e.name === 'CONVEYOR_DRAIN_TIMEOUT')?.value ?? configMap.data.CONVEYOR_DRAIN_TIMEOUT;
    // The worker exits within drain + 5 s even with Redis unreachable (test/fleet/drain.test.ts): grace must cover that.
    t.true(spec.terminationGracePeriodSeconds * 1000 >= parseDuration(drain)! + 5_000, `${name}: grace ${spec.terminationGracePeriodSeconds}s >= drain ${drain} + 5 s`);
    t.true(spec.securityContext.runAsNonRoot);
  }
  t.is(String(configMap.data.CONVEYOR_METRICS_PORT), String(defaults.metricsPort));
});

test('k8s: api probes /healthz on the API port; the Service targets it; scheduler runs 2 replicas', (t) => {
  const api = deployment('api').spec.template.spec.containers[0];
  t.is(api.ports.find((p: Dict) => p.name === 'http').containerPort, defaults.apiPort);
  t.is(api.readinessProbe.httpGet.path, '/healthz');
  t.is(api.readinessProbe.httpGet.port, 'http');
  t.is(api.env.find((e: Dict) => e.name === 'CONVEYOR_API_TOKEN').valueFrom.secretKeyRef.name, 'conveyor-api');
  const service = kinds('Service').find((s) => s.metadata.name === 'api')!;
  t.is(service.spec.ports[0].targetPort, 'http');
  t.true(deployment('scheduler').spec.replicas >= 2);
});

test('k8s: redis StatefulSet with AOF and noeviction, reachable at the REDIS_URL the config uses', (t) => {
  const redis = kinds('StatefulSet').find((s) => s.metadata.name === 'redis')!;
  const args = redis.spec.template.spec.containers[0].args as string[];
  t.is(argAfter(args, '--appendonly'), 'yes');
  t.is(argAfter(args, '--maxmemory-policy'), 'noeviction');
  t.truthy(redis.spec.volumeClaimTemplates);
  const url = new URL(configMap.data.REDIS_URL);
  t.is(url.hostname, `redis-0.${redis.spec.serviceName}`);
});

test('k8s: KEDA scales each worker Deployment on the BullMQ wait list of the queue it serves', (t) => {
  const scaled = kinds('ScaledObject');
  t.is(scaled.length, 2);
  const keys = new KeySpace(configMap.data.CONVEYOR_PREFIX);
  for (const object of scaled) {
    const target = deployment(object.spec.scaleTargetRef.name);
    t.truthy(target, `scaleTargetRef ${object.spec.scaleTargetRef.name} exists`);
    const container = target.spec.template.spec.containers[0];
    const queues = queuesOf(container.command ?? container.args);
    t.is(queues.length, 1);
    t.is(object.spec.triggers[0].metadata.listName, `${keys.bullPrefix}:${queues[0]}:wait`);
    t.true(object.spec.minReplicaCount >= 1, 'never scaled to zero under running steps');
  }
});

test('the health endpoint the probes use exists: the metrics server answers /healthz, the API registers it', async (t) => {
  const hub = { metrics: async () => '', contentType: 'text/plain' } as unknown as MetricsHub;
  const server = await startMetricsServer(hub, { port: 0, host: '127.0.0.1' });
  try {
    const response = await fetch(`${server.url}/healthz`);
    t.is(response.status, 200);
    t.deepEqual(await response.json(), { status: 'ok' });
  } finally {
    await server.close();
  }
  t.regex(read('src/api/server.ts'), /app\.get\('\/healthz'/);
});

test('docs/ci.md: the workflow is valid YAML and every conveyor command in it is real, with real flags', (t) => {
  const block = /```yaml\n([\s\S]*?)```/.exec(read('docs/ci.md'))![1];
  const workflow = parse(block) as Dict;
  t.truthy(workflow.jobs.check && workflow.jobs.deploy);
  const scripts = Object.values(workflow.jobs as Record<string, Dict>).flatMap((job) => (job.steps as Dict[]).map((s) => s.run ?? '')).join('\n');
  // `node bin/conveyor.js <cmd> ...` and `docker run ... "$IMAGE" <cmd> ...` (the image's entry point is the CLI).
  const invocations = [...scripts.replace(/\\\n\s*/g, ' ').matchAll(/(?:bin\/conveyor\.js|"\$IMAGE")[ \t]+([^\n|>&;]+)/g)].map((m) => m[1].trim().split(/\s+/));
  t.true(invocations.length >= 4, `found ${invocations.length} invocations`);
  for (const argv of invocations) t.deepEqual(checkArgv(argv, `docs/ci.md: ${argv.join(' ')}`), []);
  const names = invocations.map((a) => a[0]);
  for (const expected of ['validate', 'run', 'pipelines', 'trigger-event']) t.true(names.includes(expected), `docs/ci.md uses ${expected}`);
});

test('checkArgv catches what it is for (the checks above can fail)', (t) => {
  t.deepEqual(checkArgv(['worker', '--queues', 'default'], 'x'), []);
  t.regex(checkArgv(['wroker'], 'x')[0], /"wroker" is not a conveyor command/);
  t.regex(checkArgv(['worker', '--queue', 'default'], 'x')[0], /has no option --queue/);
  t.regex(checkArgv(['node', '--import', 'tsx', 'workers/gpu.ts'], 'x')[0], /does not exist/);
  t.deepEqual(queuesOf(['node', '--import', 'tsx', 'workers/training.ts']), ['training']);
});


test('metrics: every k8s Deployment is scraped on the metrics port and binds it publicly; schedulers probe /healthz', (t) => {
  for (const d of kinds('Deployment').filter((x) => x.metadata.name !== 'redis')) {
    const annotations = d.spec.template.metadata.annotations ?? {};
    t.is(annotations['prometheus.io/scrape'], 'true', `${d.metadata.name}: scrape annotation`);
    t.is(Number(annotations['prometheus.io/port']), defaults.metricsPort, `${d.metadata.name}: scrape port`);
    const container = d.spec.template.spec.containers[0];
    t.is(container.ports.find((p: Dict) => p.name === 'metrics')?.containerPort, defaults.metricsPort, `${d.metadata.name}: declares the metrics port`);
  }
  const scheduler = deployment('scheduler').spec.template.spec.containers[0];
  for (const probe of [scheduler.readinessProbe, scheduler.livenessProbe]) t.deepEqual(probe.httpGet, { path: '/healthz', port: 'metrics' });
  t.is(defaults.metricsHost, '127.0.0.1', 'loopback outside containers');
  t.is(configMap.data.CONVEYOR_METRICS_HOST, '0.0.0.0');
  for (const [name, service] of conveyorServices) t.is(service.environment.CONVEYOR_METRICS_HOST, '0.0.0.0', `compose ${name}`);
  t.is(envOf(finalStage).CONVEYOR_METRICS_HOST, '0.0.0.0');
});

test('metrics: compose scrapes each scheduler replica; KEDA and HPA notes name metrics that exist', async (t) => {
  const prometheus = parse(read('deploy/prometheus/prometheus.yml')) as Dict;
  const scheduler = (prometheus.scrape_configs as Dict[]).find((c) => c.job_name === 'conveyor-scheduler')!;
  t.deepEqual(scheduler.dns_sd_configs?.[0]?.names, ['scheduler'], 'one target per replica through Docker DNS');
  const { MetricsHub } = await import('../../src/monitoring/metrics-hub.ts');
  const hub = new MetricsHub({ sampleMemory: false });
  const exposed = new Set((await hub.registry.getMetricsAsJSON()).map((m) => m.name));
  hub.close();
  const named = [...read('deploy/k8s/keda-scaledobjects.yaml').matchAll(/\b(conveyor_[a-z_]+)/g)].map((m) => m[1]!);
  t.true(named.length > 0);
  for (const name of named) t.true(exposed.has(name), `${name} is exposed`);
});

/** The human-readable table of `npm run bench` (the same figures as --json). */

type Obj = Record<string, any>;

/** Issue #17's targets (wide, chain, round trips, commands, CPU, hand-off p99, memory) and earlier ones. */
const TARGETS = {
  wideRatio: 0.7,
  chainRatio: 1.0,
  handoffP50: 2,
  handoffP99: 2,
  bigDagMs: 300,
  roundTripsWide: 2.5,
  roundTripsChain: 2,
  commandsPerStep: 25,
  nodeCpuToRaw: 1.5,
  bytes: 2048,
  wideToFlows: 1.5,
  bytesPerFiveStepRun: 2048,
};

function mark(ok: boolean | undefined): string {
  return ok === undefined ? '' : ok ? 'ok' : 'MISSED';
}

export function renderTable(result: Obj): string {
  const rows: Array<[string, string, string, string]> = [];
  const { wide, chain, handoff, bigDag, cost, memory, cluster, machine, versions, config } = result as Obj;
  if (wide) {
    rows.push(['wide: engine steps/s', String(wide.engineStepsPerSec), '', '']);
    rows.push(['wide: raw BullMQ jobs/s (engine job options)', String(wide.rawJobsPerSec), '', '']);
    rows.push(['wide: raw BullMQ jobs/s (BullMQ defaults)', String(wide.rawDefaultsJobsPerSec), '', '']);
    rows.push(['wide: BullMQ flows jobs/s (1 parent, n children)', String(wide.flowsJobsPerSec), '', '']);
    rows.push(['wide: redis-server CPU busy (engine / raw)', `${wide.redisCpuBusy.engine} / ${wide.redisCpuBusy.raw}`, '', '']);
    rows.push(['wide: Node CPU µs per step / raw job / flows job', `${wide.nodeCpuUsPerStep.engine} / ${wide.nodeCpuUsPerStep.raw} / ${wide.nodeCpuUsPerStep.flows}`,
      `<= ${TARGETS.nodeCpuToRaw}× raw`, mark(wide.nodeCpuUsPerStep.engine <= TARGETS.nodeCpuToRaw * wide.nodeCpuUsPerStep.raw)]);
    rows.push(['wide: redis-server CPU µs per step / per raw job', `${wide.redisCpuUsPerStep.engine} / ${wide.redisCpuUsPerStep.raw}`, '', '']);
    rows.push(['wide: ratio to raw', String(wide.ratio), `>= ${TARGETS.wideRatio}`, mark(wide.ratio >= TARGETS.wideRatio)]);
    rows.push(['wide: ratio to flows', String(wide.ratioToFlows), `>= ${TARGETS.wideToFlows}`, mark(wide.ratioToFlows >= TARGETS.wideToFlows)]);
  }
  if (chain) {
    rows.push(['chain: engine hops/s', String(chain.engineHopsPerSec), '', '']);
    rows.push(['chain: raw BullMQ hops/s (engine job options)', String(chain.rawHopsPerSec), '', '']);
    rows.push(['chain: raw BullMQ hops/s (BullMQ defaults)', String(chain.rawDefaultsHopsPerSec), '', '']);
    rows.push([`chain: BullMQ flows hops/s (tree ${chain.flowsDepth} deep)`, String(chain.flowsHopsPerSec), '', '']);
    rows.push([`chain: raw BullMQ hops/s at concurrency ${config.concurrency} (context)`, String(chain.rawHopsPerSecAtEngineConcurrency), '', '']);
    rows.push(['chain: redis-server CPU busy (engine / raw)', `${chain.redisCpuBusy.engine} / ${chain.redisCpuBusy.raw}`, '', '']);
    rows.push(['chain: Node CPU µs per hop / raw hop / flows hop', `${chain.nodeCpuUsPerStep.engine} / ${chain.nodeCpuUsPerStep.raw} / ${chain.nodeCpuUsPerStep.flows}`,
      `<= ${TARGETS.nodeCpuToRaw}× raw`, mark(chain.nodeCpuUsPerStep.engine <= TARGETS.nodeCpuToRaw * chain.nodeCpuUsPerStep.raw)]);
    rows.push(['chain: ratio to raw', String(chain.ratio), `>= ${TARGETS.chainRatio}`, mark(chain.ratio >= TARGETS.chainRatio)]);
    rows.push(['chain: ratio to flows', String(chain.ratioToFlows), '', '']);
  }
  if (handoff) {
    rows.push(['handoff p50 (ms)', String(handoff.p50Ms), `<= ${TARGETS.handoffP50}`, mark(handoff.p50Ms <= TARGETS.handoffP50)]);
    rows.push(['handoff p99 (ms)', String(handoff.p99Ms), `<= ${TARGETS.handoffP99}`, mark(handoff.p99Ms <= TARGETS.handoffP99)]);
  }
  if (bigDag) {
    rows.push([`big DAG wide, ${bigDag.steps} steps: validate+trigger (ms)`, String(bigDag.wideMs), `< ${TARGETS.bigDagMs}`, mark(bigDag.wideMs < TARGETS.bigDagMs)]);
    rows.push([`big DAG deep, ${bigDag.steps} steps: validate+trigger (ms)`, String(bigDag.deepMs), `< ${TARGETS.bigDagMs}`, mark(bigDag.deepMs < TARGETS.bigDagMs)]);
    rows.push(['  of which validateDag alone (wide / deep, ms)', `${bigDag.validateOnly.wideMs} / ${bigDag.validateOnly.deepMs}`, '', '']);
    rows.push([`  building both with definePipeline (ms, not timed above)`, String(bigDag.buildBothWithDefinePipelineMs), '', '']);
  }
  if (cost) {
    rows.push(['round trips / step, wide', String(cost.wide.roundTripsPerStep), `<= ${TARGETS.roundTripsWide}`, mark(cost.wide.roundTripsPerStep <= TARGETS.roundTripsWide)]);
    rows.push(['round trips / step, chain', String(cost.chain.roundTripsPerStep), `<= ${TARGETS.roundTripsChain}`, mark(cost.chain.roundTripsPerStep <= TARGETS.roundTripsChain)]);
    rows.push(['Redis commands / step (incl. inside scripts)', `${cost.commandsPerStep} (wide ${cost.wide.commandsPerStep}, chain ${cost.chain.commandsPerStep})`, `<= ${TARGETS.commandsPerStep}`, mark(cost.commandsPerStep <= TARGETS.commandsPerStep)]);
    rows.push(['bytes / finished step (worst)', `${cost.bytesPerStep} (wide ${cost.wide.bytesPerStep}, chain ${cost.chain.bytesPerStep})`, `<= ${TARGETS.bytes}`, mark(cost.bytesPerStep <= TARGETS.bytes)]);
    rows.push(['  of which run-state keys / step', `wide ${cost.wide.runStateBytesPerStep}, chain ${cost.chain.runStateBytesPerStep}`, '', '']);
  }
  if (memory) {
    rows.push([`finished 5-step run: bytes (${memory.runKeys} keys; shared DAG ${memory.sharedDagBytes} B over ${memory.runs} runs)`, String(memory.bytesPerRunAmortised), `<= ${TARGETS.bytesPerFiveStepRun}`, mark(memory.bytesPerRunAmortised <= TARGETS.bytesPerFiveStepRun)]);
  }
  if (cluster) {
    rows.push([`cluster: busiest master's share of commands (${cluster.runs} runs × ${cluster.steps} steps)`, `${cluster.busiestShare} (${cluster.commands.join(' / ')})`, '<= 0.45', mark(cluster.busiestShare <= 0.45)]);
  }
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length), ['figure', 'value', 'target', ''][i].length));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  const out = [
    `Conveyor bench — ${machine.cpus} × ${machine.model}, ${machine.memoryGB} GB; Node ${versions.node}, Redis ${versions.redis}, BullMQ ${versions.bullmq}`,
    `sizes ${JSON.stringify(config.sizes)}, concurrency ${config.concurrency}, median of ${config.repeat}`,
    '',
    line(['figure', 'value', 'target', '']),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
  ];
  if (cost) {
    out.push(`requests per step by command — wide: ${JSON.stringify(cost.wide.requestsByCommand)}`);
    out.push(`requests per step by command — chain: ${JSON.stringify(cost.chain.requestsByCommand)}`, '');
    out.push(`commands per step by name — wide: ${JSON.stringify(cost.wide.commandsByName)}`);
    out.push(`commands per step by name — chain: ${JSON.stringify(cost.chain.commandsByName)}`, '');
  }
  if (memory) out.push(`finished 5-step run, bytes by key: ${JSON.stringify(memory.byKey)}`, '');
  return out.join('\n');
}

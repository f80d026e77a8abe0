import { performance } from 'node:perf_hooks';
import { definePipeline, type Pipeline } from '../src/dsl/pipeline.ts';

/** Records when each step's handler starts (performance.now()), for handoff latency. */
export class StartProbe {
  readonly startedAt = new Map<string, number>();
  record = (step: string): null => {
    this.startedAt.set(step, performance.now());
    return null;
  };
  clear(): void {
    this.startedAt.clear();
  }
}

/** start → `width` parallel no-op steps → join. Built with definePipeline in a loop, as a user would. */
export function widePipeline(id: string, width: number, probe?: StartProbe): Pipeline<any, any> {
  const noop = (ctx: { step: string }) => (probe ? probe.record(ctx.step) : null);
  let p: Pipeline<any, any> = definePipeline({ id }).step('start', noop);
  const names: string[] = [];
  for (let i = 0; i < width; i++) {
    const name = `s${i}`;
    names.push(name);
    p = p.step(name, { needs: ['start'] }, noop);
  }
  return p.step('join', { needs: names }, noop);
}

/** A linear chain of `length` no-op steps: c0 → c1 → … */
export function chainPipeline(id: string, length: number, probe?: StartProbe): Pipeline<any, any> {
  const noop = (ctx: { step: string }) => (probe ? probe.record(ctx.step) : null);
  let p: Pipeline<any, any> = definePipeline({ id }).step('c0', noop);
  for (let i = 1; i < length; i++) p = p.step(`c${i}`, { needs: [`c${i - 1}`] }, noop);
  return p;
}

/** A fan-out DAG of `size` steps in total (root, size-2 parallel, join): validated and triggered only. */
export function bigWideDag(id: string, size: number): Pipeline<any, any> {
  return widePipeline(id, size - 2);
}

/** A `size`-step chain: the deepest DAG of that size (validation walks it end to end). */
export function bigDeepDag(id: string, size: number): Pipeline<any, any> {
  return chainPipeline(id, size);
}

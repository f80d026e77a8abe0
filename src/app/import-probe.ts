import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/** Default deadline for importing one pipeline file (CONVEYOR_PIPELINE_IMPORT_TIMEOUT). */
export const DEFAULT_IMPORT_TIMEOUT_MS = 10_000;

/**
 * Imports files one after another in a worker thread and says when each has finished. Plain script
 * (the `eval` worker form), so it loads the same whether Conveyor runs from TypeScript or a build.
 * Import errors are ignored here: the real import reports them with positions.
 */
const PROBE_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const done = new Int32Array(workerData.progress);
(async () => {
  if (workerData.tsx) {
    try { (await import(workerData.tsx)).register(); } catch {}
  }
  // Conveyor itself loads before any deadline starts: pipeline files import it, and it is not theirs to pay for.
  try { await import(workerData.library); } catch {}
  for (let i = 0; i < workerData.urls.length; i++) {
    parentPort.postMessage({ started: i });
    try { await import(workerData.urls[i]); } catch {}
    Atomics.store(done, 0, i + 1);
    parentPort.postMessage({ finished: i });
  }
})();
`;

/** This package's entry, loaded in the probe before the deadlines start (same file the pipelines import). */
const LIBRARY = new URL(`../index${extname(fileURLToPath(import.meta.url))}`, import.meta.url).href;

function tsxLoader(): string | undefined {
  try {
    return import.meta.resolve('tsx/esm/api');
  } catch {
    return undefined;
  }
}

export type ProbeVerdict = 'finished' | 'hanging';

/**
 * Imports `urls` ahead of the real import, each within `timeoutMs`. A file that busy-loops at import
 * cannot be interrupted on the thread that imports it, and one whose top-level await never settles
 * never returns: so each file is first imported in a worker thread, which is abandoned (terminated)
 * when a file's deadline passes; the rest continue in a fresh one. Callers import a file for real once
 * `verdict(url)` says it finished (its top-level code then runs twice: here and on the main thread).
 * The probe runs ahead of the caller, so probing and real imports overlap.
 */
export class ImportProbe {
  private readonly verdicts = new Map<string, { promise: Promise<ProbeVerdict>; resolve(v: ProbeVerdict): void }>();

  constructor(urls: readonly string[], private readonly timeoutMs: number) {
    for (const url of urls) {
      let resolve!: (v: ProbeVerdict) => void;
      const promise = new Promise<ProbeVerdict>((r) => (resolve = r));
      this.verdicts.set(url, { promise, resolve });
    }
    void this.run([...urls]);
  }

  verdict(url: string): Promise<ProbeVerdict> {
    return this.verdicts.get(url)?.promise ?? Promise.resolve('finished');
  }

  private async run(urls: string[]): Promise<void> {
    const tsx = tsxLoader();
    let remaining = urls;
    while (remaining.length > 0) remaining = await this.probeUntilHang(remaining, tsx);
  }

  /** Probes `urls` in one worker; returns those not reached yet when a file hung or the worker died. */
  private probeUntilHang(urls: string[], tsx: string | undefined): Promise<string[]> {
    return new Promise((resolve) => {
      // How many files the worker has finished, readable even when its message is still queued behind
      // a timer that fired late because this thread was busy.
      const progress = new SharedArrayBuffer(4);
      const finished = new Int32Array(progress);
      const worker = new Worker(PROBE_SOURCE, { eval: true, workerData: { urls, tsx, library: LIBRARY, progress }, stdout: true, stderr: true });
      worker.unref();
      worker.stdout.resume(); // what the files print while probed is dropped: the real import prints it
      worker.stderr.resume();
      let timer: NodeJS.Timeout | undefined;
      let current = -1;
      const settle = (rest: string[]) => {
        clearTimeout(timer);
        worker.removeAllListeners();
        worker.on('error', () => {});
        void worker.terminate();
        resolve(rest);
      };
      worker.on('message', (message: { started?: number; finished?: number }) => {
        if (message.started !== undefined) {
          const index = message.started;
          current = index;
          timer = setTimeout(() => {
            if (Atomics.load(finished, 0) > index) return; // it did finish; its message is on the way
            this.verdicts.get(urls[index])?.resolve('hanging');
            settle(urls.slice(index + 1));
          }, this.timeoutMs);
        } else if (message.finished !== undefined) {
          clearTimeout(timer);
          this.verdicts.get(urls[message.finished])?.resolve('finished');
          if (message.finished === urls.length - 1) settle([]);
        }
      });
      // A worker with nothing left to wait on exits by itself: the file it was importing can never finish
      // (a top-level await on a promise nobody settles, or the file called process.exit).
      worker.on('exit', () => {
        const stuck = current >= 0 && Atomics.load(finished, 0) <= current;
        if (stuck) this.verdicts.get(urls[current])?.resolve('hanging');
        settle(urls.slice(stuck ? current + 1 : Atomics.load(finished, 0)));
      });
      // An uncaught error in the worker (a file's timer throwing): the real import judges the file.
      worker.on('error', () => settle(urls.slice(Math.max(current, 0))));
    });
  }
}

/** A small parser of the Prometheus text format, enough to check values in tests. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  samples: Sample[];
  /** Metric family names from `# TYPE` lines, with their type. */
  families: Map<string, string>;
}

export function parseExposition(text: string): Exposition {
  const samples: Sample[] = [];
  const families = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) {
      families.set(type[1]!, type[2]!);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) throw new Error(`unparsable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, '$1');
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { samples, families };
}

/** The value of the one sample with this name whose labels include `labels`; undefined if none. */
export function valueOf(exp: Exposition, name: string, labels: Record<string, string> = {}): number | undefined {
  const found = exp.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)}: ${found.length} samples match, expected one`);
  return found[0]?.value;
}

export async function scrape(url: string): Promise<Exposition> {
  const res = await fetch(`${url}/metrics`);
  if (res.status !== 200) throw new Error(`GET ${url}/metrics: HTTP ${res.status}`);
  return parseExposition(await res.text());
}

/**
 * Scrapes until `ready` holds (or `timeoutMs` passes, then returns the last scrape for the test to fail
 * on): waitForRun sees the status the completion script wrote, and the run-finished event follows it.
 */
export async function scrapeWhen(read: () => Promise<Exposition>, ready: (exp: Exposition) => boolean, timeoutMs = 10_000): Promise<Exposition> {
  const deadline = Date.now() + timeoutMs;
  let exp = await read();
  while (!ready(exp) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
    exp = await read();
  }
  return exp;
}

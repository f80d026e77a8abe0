import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { importGraph, type ImportEdge } from './import-graph.ts';
import { ENV_READERS_KNOWN, KNOWN_VIOLATIONS, LAYERS } from './layer-rules.ts';

/**
 * The layering of src/ (DESIGN's module table, as docs/internals.md keeps it) is enforced here:
 * a new import that crosses a layer fails `npm test`, naming the file and line. Known violations are
 * listed with a reason in layer-rules.ts and must shrink: an entry that no longer occurs fails too,
 * so the list cannot go stale.
 */

const SRC = join(import.meta.dirname, '..', '..', 'src');
const edges = importGraph(SRC);

function violation(edge: ImportEdge): string | undefined {
  const rule = LAYERS[edge.from];
  if (!rule) return `${edge.from}/ is a module the layer table does not know: add it to test/architecture/layer-rules.ts`;
  if (edge.to.startsWith('pkg:')) {
    const name = edge.to.slice(4);
    if (rule.packages === '*' || rule.packages.includes(name)) return undefined;
    return `${edge.from}/ may not import package ${name}`;
  }
  if (rule.imports.includes('*') || rule.imports.includes(edge.to)) return undefined;
  if (edge.typeOnly && rule.types?.includes(edge.to)) return undefined;
  if (rule.types?.includes(edge.to)) return `${edge.from}/ may import only types from ${edge.to}/`;
  return `${edge.from}/ may not import ${edge.to}/`;
}

const key = (edge: ImportEdge) => `${edge.file} -> ${edge.to}`;

test('every import in src/ follows the layer table (or is a listed, explained exception)', (t) => {
  const found = new Map<string, string>();
  for (const edge of edges) {
    const problem = violation(edge);
    if (problem) found.set(key(edge), `src/${edge.file}:${edge.line}: ${problem}`);
  }
  const unexpected = [...found].filter(([k]) => !(k in KNOWN_VIOLATIONS)).map(([, text]) => text);
  t.deepEqual(unexpected, [], `new layer violations:\n${unexpected.join('\n')}`);
  const stale = Object.keys(KNOWN_VIOLATIONS).filter((k) => !found.has(k));
  t.deepEqual(stale, [], `these listed exceptions no longer occur; remove them from layer-rules.ts:\n${stale.join('\n')}`);
});

test('the import graph of src/ has no cycle between modules (value imports)', (t) => {
  const graph = new Map<string, Set<string>>();
  for (const e of edges) if (!e.to.startsWith('pkg:') && !e.typeOnly) (graph.get(e.from) ?? graph.set(e.from, new Set()).get(e.from)!).add(e.to);
  // The composition root and the public index sit on top by definition.
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (m: string) => {
    state.set(m, 'open');
    stack.push(m);
    for (const next of graph.get(m) ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next].join(' → '));
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(m, 'done');
  };
  for (const m of graph.keys()) if (!state.has(m)) visit(m);
  t.deepEqual(cycles, []);
});

test('process.env is read only in config/ (the one place options are validated)', (t) => {
  const offenders: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|js)$/.test(e.name)) {
        const rel = p.slice(SRC.length + 1);
        if (rel.startsWith('config/')) continue;
        readFileSync(p, 'utf8').split('\n').forEach((line, i) => {
          if (/process\.env\b/.test(line) && !line.trimStart().startsWith('//') && !line.trimStart().startsWith('*')) offenders.push(`src/${rel}:${i + 1}`);
        });
      }
    }
  };
  walk(SRC);
  const unexpected = offenders.filter((o) => !ENV_READERS_KNOWN.some((k) => o.startsWith(k)));
  t.deepEqual(unexpected, [], `process.env read outside config/:\n${unexpected.join('\n')}`);
});

test('the checker catches what it is for (a crafted edge is a violation)', (t) => {
  const fake: ImportEdge = { file: 'core/x.ts', line: 1, from: 'core', to: 'redis', typeOnly: false };
  t.truthy(violation(fake));
  t.truthy(violation({ ...fake, from: 'api', to: 'pkg:ioredis' }));
  t.truthy(violation({ ...fake, from: 'graph', to: 'dsl', typeOnly: false }));
  t.falsy(violation({ ...fake, from: 'graph', to: 'dsl', typeOnly: true }));
  t.falsy(violation({ ...fake, from: 'app', to: 'redis' }));
});

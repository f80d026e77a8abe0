/**
 * A Dockerfile read as Docker reads it, for tests that check instructions instead of matching text:
 * comments and blank lines dropped, `\` continuations joined, each instruction split into its
 * keyword, `--flag=value` options, and arguments (the JSON array of the exec form, else words), and
 * grouped into stages at each FROM.
 */
export interface Instruction {
  keyword: string;
  flags: Record<string, string>;
  /** Exec form (`["a", "b"]`) parsed as JSON; shell form split on whitespace. */
  args: string[];
  /** The arguments as written (the shell form's command line). */
  text: string;
  /** For HEALTHCHECK: the CMD it runs. */
  cmd?: Instruction;
}

export interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

export interface Dockerfile {
  /** ARGs before the first FROM. */
  globalArgs: Record<string, string>;
  stages: Stage[];
}

function parseInstruction(line: string): Instruction {
  const [, keyword, rest] = /^(\S+)\s*([\s\S]*)$/.exec(line)!;
  const flags: Record<string, string> = {};
  let text = rest.trim();
  for (let m = /^--([\w-]+)=(\S+)\s*/.exec(text); m; m = /^--([\w-]+)=(\S+)\s*/.exec(text)) {
    flags[m[1]] = m[2];
    text = text.slice(m[0].length);
  }
  const upper = keyword.toUpperCase();
  if (upper === 'HEALTHCHECK' && /^CMD\b/i.test(text)) {
    return { keyword: upper, flags, args: [], text, cmd: parseInstruction(text) };
  }
  const args = text.startsWith('[') ? (JSON.parse(text) as string[]) : text.split(/\s+/).filter(Boolean);
  return { keyword: upper, flags, args, text };
}

export function parseDockerfile(source: string): Dockerfile {
  const lines: string[] = [];
  let pending = '';
  for (const raw of source.split('\n')) {
    const line = raw.trim();
    if (!pending && (line === '' || line.startsWith('#'))) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    lines.push(pending + line);
    pending = '';
  }
  const file: Dockerfile = { globalArgs: {}, stages: [] };
  for (const line of lines) {
    const ins = parseInstruction(line);
    if (ins.keyword === 'FROM') {
      const as = ins.args.findIndex((a) => a.toUpperCase() === 'AS');
      file.stages.push({ from: ins.args[0], name: as >= 0 ? ins.args[as + 1] : undefined, instructions: [] });
    } else if (file.stages.length === 0 && ins.keyword === 'ARG') {
      const [name, value = ''] = ins.args[0].split('=');
      file.globalArgs[name] = value;
    } else if (file.stages.length > 0) {
      file.stages[file.stages.length - 1].instructions.push(ins);
    }
  }
  return file;
}

/** A stage's instructions of one keyword. */
export function instructions(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((i) => i.keyword === keyword);
}

/** The commands a RUN executes (`a && b` is two). */
export function runCommands(stage: Stage): string[] {
  return instructions(stage, 'RUN').flatMap((i) => i.text.split('&&').map((c) => c.trim().replace(/\s+/g, ' ')));
}

/** ENV name=value pairs of a stage. */
export function envOf(stage: Stage): Record<string, string> {
  return Object.fromEntries(instructions(stage, 'ENV').flatMap((i) => i.args.map((a) => a.split('=') as [string, string])));
}

/**
 * Splits a text stream into lines as chunks arrive. A line longer than `maxLineChars` is cut there
 * (a process printing megabytes without a newline must not grow memory without bound).
 */
export class LineSplitter {
  private buffer = '';

  constructor(private readonly maxLineChars = 16 * 1024 * 1024) {}

  push(chunk: string): string[] {
    this.buffer += chunk;
    const lines: string[] = [];
    let start = 0;
    for (let nl = this.buffer.indexOf('\n', start); nl >= 0; nl = this.buffer.indexOf('\n', start)) {
      lines.push(stripCr(this.buffer.slice(start, nl)));
      start = nl + 1;
    }
    this.buffer = this.buffer.slice(start);
    while (this.buffer.length > this.maxLineChars) {
      lines.push(this.buffer.slice(0, this.maxLineChars));
      this.buffer = this.buffer.slice(this.maxLineChars);
    }
    return lines;
  }

  /** The unterminated last line, if any. */
  end(): string[] {
    const rest = this.buffer;
    this.buffer = '';
    return rest.length > 0 ? [stripCr(rest)] : [];
  }
}

const stripCr = (line: string) => (line.endsWith('\r') ? line.slice(0, -1) : line);

/** Keeps the last `size` items (the tail of stderr for error messages). */
export class Tail {
  private readonly items: string[] = [];
  constructor(private readonly size: number) {}
  push(item: string): void {
    this.items.push(item);
    if (this.items.length > this.size) this.items.shift();
  }
  lines(): string[] {
    return [...this.items];
  }
}

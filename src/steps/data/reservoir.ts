/**
 * mulberry32: a small, fast 32-bit PRNG. Seeded so that sampling — and so every KS figure computed
 * from a sample — is the same on every run over the same file.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Uniform sample of at most `capacity` numbers from a stream of unknown length (Vitter's algorithm R).
 * Memory is O(capacity) whatever the stream's length; while fewer than `capacity` values have been
 * seen, the sample is the whole stream.
 */
export class Reservoir {
  readonly capacity: number;
  private readonly random: () => number;
  private readonly items: number[] = [];
  /** How many values were offered. */
  seen = 0;

  constructor(capacity: number, random: () => number) {
    this.capacity = capacity;
    this.random = random;
  }

  add(value: number): void {
    this.seen++;
    if (this.items.length < this.capacity) {
      this.items.push(value);
      return;
    }
    const j = Math.floor(this.random() * this.seen);
    if (j < this.capacity) this.items[j] = value;
  }

  /** True when the stream outgrew the reservoir, so figures computed from it are estimates. */
  get sampled(): boolean {
    return this.seen > this.capacity;
  }

  values(): number[] {
    return this.items;
  }
}

/**
 * A progress line for long work: done/total, items per second, ETA. On a terminal it redraws one line;
 * elsewhere (CI, logs) it prints a line at most every `logEveryMs`. Writes to stderr so stdout stays clean.
 */
export interface ProgressOptions {
  readonly label: string;
  readonly total: number;
  readonly unit?: string;
  readonly stream?: NodeJS.WriteStream;
  readonly logEveryMs?: number;
  readonly silent?: boolean;
}

export class Progress {
  private done = 0;
  private readonly start = Date.now();
  private lastDraw = 0;
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;

  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY);
  }

  tick(n = 1, note = ''): void {
    this.done += n;
    const now = Date.now();
    const interval = this.tty ? 100 : (this.opts.logEveryMs ?? 10_000);
    if (now - this.lastDraw >= interval || this.done >= this.opts.total) {
      this.lastDraw = now;
      this.draw(note);
    }
  }

  finish(note = ''): void {
    this.draw(note);
    if (this.tty && !this.opts.silent) this.stream.write('\n');
  }

  /** Seconds since start. */
  get elapsed(): number {
    return (Date.now() - this.start) / 1000;
  }

  line(note = ''): string {
    const { label, total, unit = 'it' } = this.opts;
    // No rate (and no ETA) until there is a measurable interval: a first tick within a millisecond would
    // otherwise print absurd rates.
    const rate = this.elapsed >= 0.05 ? this.done / this.elapsed : NaN;
    const eta = rate > 0 ? (total - this.done) / rate : Infinity;
    const pct = total > 0 ? Math.floor((100 * this.done) / total) : 100;
    const width = 20;
    const filled = Math.round((width * pct) / 100);
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    return `${label} [${bar}] ${this.done}/${total} ${pct}% ${Number.isFinite(rate) ? rate.toFixed(rate < 10 ? 2 : 0) : '--'} ${unit}/s ETA ${formatSeconds(eta)}${note ? ' ' + note : ''}`;
  }

  private draw(note: string): void {
    if (this.opts.silent) return;
    this.stream.write(this.tty ? `\r${this.line(note)}\x1b[K` : `${this.line(note)}\n`);
  }
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '--:--';
  const t = Math.max(0, Math.round(s));
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = t % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${m}:${String(sec).padStart(2, '0')}`;
}

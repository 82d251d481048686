/**
 * `stats.jsonl`: one JSON object per logged training step, appended and flushed as training goes, so a crashed
 * or running job can be read at any time (StyleGAN2-ADA's stats.jsonl). Stat names are hierarchical
 * (`loss/d/total`, `loss/g/adversarial`, `time/sec-per-step`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../core/atomic.js';

/** One line of stats.jsonl. */
export interface StatsRecord {
  /** Generator steps completed (one step = `criticSteps` discriminator updates + one generator update). */
  readonly step: number;
  /** Thousands of images shown: generator steps × batch size (StyleGAN2-ADA's clock; critic steps not counted). */
  readonly kimg: number;
  /** Loss terms by hierarchical name, e.g. `loss/d/total`, `loss/g/adversarial`, averaged since the previous record. */
  readonly losses: Readonly<Record<string, number>>;
  /** Diagnostics, e.g. `score/d/real`, `score/d/fake` (mean raw D outputs), averaged likewise. */
  readonly scores?: Readonly<Record<string, number>>;
  /** Learning rates by network, e.g. `{ generator: 2e-4, discriminator: 2e-4 }`. */
  readonly learningRate: Readonly<Record<string, number>>;
  /** Wall-clock seconds per generator step, averaged since the previous record. */
  readonly secPerStep: number;
  /** Training images per second since the previous record. */
  readonly imagesPerSec: number;
  /** Seconds of training since the run started (summed over resumed sessions). */
  readonly wallTimeSec: number;
  /** Live TF.js tensors after the step: flat in a healthy run. */
  readonly numTensors?: number;
  /** ISO time the record was written. */
  readonly time: string;
}

/** Appends records to a JSONL file, one `fsync`ed line each. */
export class StatsWriter {
  private fd: number;

  constructor(readonly file: string) {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.fd = fs.openSync(file, 'a');
  }

  append(record: StatsRecord): void {
    fs.writeSync(this.fd, JSON.stringify(record) + '\n');
    fs.fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}

/**
 * Reads stats.jsonl. A torn last line (a crash mid-write) is skipped; any other malformed line is an error naming
 * the file and line.
 */
export function readStats(file: string): StatsRecord[] {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const out: StatsRecord[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      out.push(JSON.parse(line) as StatsRecord);
    } catch {
      const isLast = lines.slice(i + 1).every((l) => l.trim() === '');
      if (!isLast) throw new Error(`${file}:${i + 1}: not a JSON line`);
    }
  });
  return out;
}

/**
 * Drops records after `step` (written after the checkpoint a run resumes from), so a resumed run's stats.jsonl
 * reads as one uninterrupted run. Rewrites the file atomically; a missing file is left missing.
 */
export function truncateStatsAfter(file: string, step: number): void {
  if (!fs.existsSync(file)) return;
  const kept = readStats(file).filter((r) => r.step <= step);
  writeFileAtomic(file, kept.map((r) => JSON.stringify(r) + '\n').join(''));
}

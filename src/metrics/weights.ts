/**
 * Known pretrained weight files the metrics need. medsyn never downloads anything: the user fetches a file
 * from its URL and puts it into the weights folder — `MEDSYN_WEIGHTS_DIR`, else `~/.cache/medsyn/weights/`.
 * `weightsStatus()` / `weightsReport()` tell what is present, missing, or has the wrong hash.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DataError } from '../core/errors.js';

export interface KnownWeights {
  /** short id used in messages and the CLI */
  readonly id: string;
  /** file name expected in the weights folder */
  readonly file: string;
  /** full sha256 (hex) of the official file */
  readonly sha256: string;
  /** size in bytes of the official file */
  readonly bytes: number;
  /** where the user downloads it */
  readonly url: string;
  readonly description: string;
  /** where the expected hash comes from */
  readonly hashSource: string;
}

/**
 * The FID Inception-v3 weights of pytorch-fid (a port of the TF graph inception-2015-12-05; metrics spec §1.3).
 * torch-fidelity re-hosts the same checkpoint as `weights-inception-2015-12-05-6726825d.pth`; either copy works
 * under this file name when its hash matches.
 */
export const FID_INCEPTION_WEIGHTS: KnownWeights = {
  id: 'inception-fid',
  file: 'pt_inception-2015-12-05-6726825d.pth',
  sha256: '6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2',
  bytes: 95_628_359,
  url: 'https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth',
  description: 'FID Inception-v3 (pytorch-fid), 2048-d pool3 features for FID/KID/PRDC',
  hashSource:
    'the file name carries the first 8 hex digits (torch.hub convention); the full digest and size are those '
    + 'recorded for this file by several independent public projects, not measured by medsyn',
};

export const KNOWN_WEIGHTS: readonly KnownWeights[] = [FID_INCEPTION_WEIGHTS];

/** The weights folder: `MEDSYN_WEIGHTS_DIR`, else `~/.cache/medsyn/weights`. */
export function weightsDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.MEDSYN_WEIGHTS_DIR?.trim();
  return fromEnv ? path.resolve(fromEnv) : path.join(os.homedir(), '.cache', 'medsyn', 'weights');
}

/** sha256 (hex) of a file, streamed in 8 MiB chunks. */
export function sha256File(file: string): string {
  const h = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const chunk = Buffer.allocUnsafe(8 << 20);
    for (;;) {
      const n = fs.readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      h.update(chunk.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

export type WeightsState = 'present' | 'missing' | 'hash-mismatch';

export interface WeightsStatus {
  readonly weights: KnownWeights;
  readonly path: string;
  readonly state: WeightsState;
  /** measured sha256 (present or hash-mismatch) */
  readonly sha256?: string;
  readonly bytes?: number;
}

/** Checks each known file in `dir` (default `weightsDir()`); hashes every file found (~0.3 s per 100 MB). */
export function weightsStatus(dir: string = weightsDir()): WeightsStatus[] {
  return KNOWN_WEIGHTS.map((w) => {
    const p = path.join(dir, w.file);
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch {
      return { weights: w, path: p, state: 'missing' as const };
    }
    if (!st.isFile()) return { weights: w, path: p, state: 'missing' as const };
    const sha = sha256File(p);
    return { weights: w, path: p, state: sha === w.sha256 ? 'present' as const : 'hash-mismatch' as const, sha256: sha, bytes: st.size };
  });
}

/** Printable lines for `medsyn weights`. */
export function weightsReport(dir: string = weightsDir()): string[] {
  const lines = [`weights folder: ${dir}${process.env.MEDSYN_WEIGHTS_DIR?.trim() ? ' (MEDSYN_WEIGHTS_DIR)' : ' (set MEDSYN_WEIGHTS_DIR to change)'}`];
  for (const s of weightsStatus(dir)) {
    const w = s.weights;
    lines.push(`${w.id}: ${s.state} — ${w.description}`);
    lines.push(`  file:     ${s.path}`);
    if (s.state === 'missing') {
      lines.push(`  download: ${w.url}`);
      lines.push(`  sha256:   ${w.sha256} (${w.bytes} bytes expected)`);
    } else if (s.state === 'hash-mismatch') {
      lines.push(`  sha256:   ${s.sha256} (${s.bytes} bytes), expected ${w.sha256} (${w.bytes} bytes)`);
      lines.push(`  fix:      download it again from ${w.url}`);
    } else {
      lines.push(`  sha256:   ${s.sha256} (ok)`);
    }
  }
  lines.push('medsyn never downloads weights; fetch a missing file yourself (e.g. curl -L -o <file> <url>).');
  return lines;
}

/** The error for a missing weights file: names the path, the URL and the expected sha256. */
export function missingWeightsError(w: KnownWeights, file: string): DataError {
  return new DataError(
    file,
    `${w.description}: weights file not found`,
    `download ${w.url} (sha256 ${w.sha256}) and save it as ${file}, or point MEDSYN_WEIGHTS_DIR at the folder that holds ${w.file}; medsyn never downloads it`,
  );
}

/** Path of a known weights file in the weights folder; throws `missingWeightsError` when absent. */
export function requireWeights(w: KnownWeights = FID_INCEPTION_WEIGHTS, dir: string = weightsDir()): string {
  const p = path.join(dir, w.file);
  if (!fs.existsSync(p)) throw missingWeightsError(w, p);
  return p;
}

/**
 * The Inception weights to use: the user's file when given, else the official file in the weights folder when
 * present with its hash; otherwise null and one line saying how to add them.
 */
export function resolveInceptionWeights(given?: { readonly file: string; readonly allowUnverified?: boolean }): { readonly file: string | null; readonly skipped: string | null } {
  if (given) return { file: given.file, skipped: null };
  const dir = weightsDir();
  const status = weightsStatus(dir).find((s) => s.weights.id === FID_INCEPTION_WEIGHTS.id);
  if (status?.state === 'present') return { file: status.path, skipped: null };
  const why = status?.state === 'hash-mismatch' ? `${status.path} does not have the official hash` : `${FID_INCEPTION_WEIGHTS.file} is not in ${dir}`;
  return { file: null, skipped: `FID Inception weights unavailable (${why}): run \`medsyn weights\` for the download URL and where to put the file` };
}

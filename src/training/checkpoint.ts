/**
 * Training checkpoints as safetensors files: every variable a run needs to continue bit-exactly, by name, plus the
 * loop's position in `__metadata__`. Tensor names (see docs/checkpoints.md for the mapping to a PyTorch module):
 *
 *   G.<param>  D.<param>  G_ema.<param>     network parameters and buffers, TF.js layouts (conv [kh, kw, in, out])
 *   optG.<param>.m  optG.<param>.v          Adam moments of the generator's parameters
 *   optD.<param>.m  optD.<param>.v          Adam moments of the discriminator's parameters
 *
 * Metadata values are JSON-encoded strings (safetensors allows only string → string): step, imagesShown, rng
 * (states by stream name), batches (the real-batch stream's position), configHash, optimizerSteps, wallTimeSec,
 * lastLosses (the last step's losses and scores).
 * Files are written atomically (temp + rename): a crash leaves the previous checkpoint intact.
 */
import fs from 'node:fs';
import path from 'node:path';
import { tf } from '../core/engine.js';
import { DataError } from '../core/errors.js';
import { MEDSYN_VERSION } from '../core/version.js';
import type { RngState } from '../core/rng.js';
import { loadSafetensors, saveSafetensors, tensor, type NamedTensor, type TypedArray } from '../core/safetensors.js';
import type { Network } from '../models/network.js';
import type { BatchPosition } from './batches.js';
import type { Adam } from '../core/adam.js';

export const CHECKPOINT_FORMAT = 'medsyn-checkpoint/1';
/** The checkpoint a run resumes from, overwritten at every checkpoint. */
export const LATEST_CHECKPOINT = 'checkpoint-latest.safetensors';

/** Checkpoint prefixes, in file order. */
export const CHECKPOINT_GROUPS = ['G', 'D', 'G_ema', 'optG', 'optD'] as const;
export type CheckpointGroup = (typeof CHECKPOINT_GROUPS)[number];
/** The groups a network snapshot holds (no optimizer state: enough to sample and evaluate, not to resume). */
export const SNAPSHOT_GROUPS: readonly CheckpointGroup[] = ['G', 'D', 'G_ema'];

/** Variables by name within each group; a checkpoint stores `<group>.<name>`. */
export type VariableGroups = Partial<Record<CheckpointGroup, ReadonlyMap<string, tf.Variable>>>;

/** What the loop needs besides the variables to continue exactly. */
export interface CheckpointState {
  /** Generator steps completed. */
  readonly step: number;
  /** Images shown (generator steps × batch size). */
  readonly imagesShown: number;
  /** States of the run's random streams, by name (e.g. `latents`, `augment`). */
  readonly rng: Readonly<Record<string, RngState>>;
  /** Position of the real-batch stream. */
  readonly batches: BatchPosition;
  /** Hash of everything that must match for a resume to be valid (see runIdentity in run-folder.ts). */
  readonly configHash: string;
  /** Adam step counts, by optimizer group (`optG`, `optD`). */
  readonly optimizerSteps: Readonly<Record<string, number>>;
  /** Seconds of training so far, summed over sessions. */
  readonly wallTimeSec: number;
  /**
   * The last step's losses and scores (what a finished run reports as finalLosses), so a run resumed from its
   * final checkpoint reports them too. Absent in checkpoints written before it was recorded.
   */
  readonly lastLosses?: Readonly<Record<string, number>>;
}

/** A network's parameters then buffers, by name (`G.<name>` in a checkpoint). */
export function networkVariables(net: Network): Map<string, tf.Variable> {
  const out = new Map(net.params);
  for (const [name, v] of net.buffers) {
    if (out.has(name)) throw new Error(`network has both a parameter and a buffer named ${name}`);
    out.set(name, v);
  }
  return out;
}

/** An optimizer's moments by name (`<param>.m`, `<param>.v`). */
export function optimizerVariables(opt: Adam): Map<string, tf.Variable> {
  const out = new Map<string, tf.Variable>();
  for (const [name, { m, v }] of opt.moments()) {
    out.set(`${name}.m`, m);
    out.set(`${name}.v`, v);
  }
  return out;
}

/** `000040` for 40 kimg, `000000.064` for 64 images: sorts by time, readable, exact. */
export function kimgLabel(imagesShown: number): string {
  const whole = Math.floor(imagesShown / 1000);
  const rest = imagesShown - whole * 1000;
  const head = String(whole).padStart(6, '0');
  return rest === 0 ? head : `${head}.${String(rest).padStart(3, '0').replace(/0+$/, '')}`;
}

export function snapshotFileName(imagesShown: number): string {
  return `network-snapshot-${kimgLabel(imagesShown)}.safetensors`;
}

function toNamedTensor(v: tf.Variable): NamedTensor {
  const data = v.dataSync();
  let copy: TypedArray;
  if (v.dtype === 'float32') copy = Float32Array.from(data as Float32Array);
  else if (v.dtype === 'int32') copy = Int32Array.from(data as Int32Array);
  else throw new Error(`checkpoint: variable ${v.name} has dtype ${v.dtype}; only float32 and int32 are stored`);
  return tensor(copy, v.shape);
}

/** Serialises the given groups (in CHECKPOINT_GROUPS order) and the loop state atomically to `file`. */
export function saveCheckpoint(file: string, groups: VariableGroups, state: CheckpointState): void {
  const tensors: Record<string, NamedTensor> = {};
  for (const group of CHECKPOINT_GROUPS) {
    const vars = groups[group];
    if (!vars) continue;
    for (const [name, v] of vars) tensors[`${group}.${name}`] = toNamedTensor(v);
  }
  const metadata: Record<string, string> = {
    format: JSON.stringify(CHECKPOINT_FORMAT),
    medsynVersion: JSON.stringify(MEDSYN_VERSION),
    groups: JSON.stringify(CHECKPOINT_GROUPS.filter((g) => groups[g])),
  };
  for (const [k, v] of Object.entries(state)) metadata[k] = JSON.stringify(v);
  saveSafetensors(file, tensors, metadata);
}

/** A checkpoint read from disk, before (or without) restoring it into variables. */
export interface CheckpointFile {
  readonly file: string;
  readonly tensors: Readonly<Record<string, NamedTensor>>;
  readonly state: CheckpointState;
  /** The groups present in the file. */
  readonly groups: readonly CheckpointGroup[];
}

/** Reads and parses a checkpoint. Errors name the file. */
export function readCheckpoint(file: string): CheckpointFile {
  if (!fs.existsSync(file)) throw new DataError(file, 'checkpoint not found', 'check the run folder; training writes checkpoint-latest.safetensors');
  let decoded;
  try {
    decoded = loadSafetensors(file);
  } catch (err) {
    throw new DataError(file, `cannot be read (${(err as Error).message})`, 'the checkpoint is corrupt; use an earlier network-snapshot-*.safetensors');
  }
  const meta = decoded.metadata;
  const parse = (key: string): unknown => {
    if (!(key in meta)) throw new DataError(file, `checkpoint metadata lacks "${key}"`, 'this is not a medsyn checkpoint (or from an incompatible version)');
    try {
      return JSON.parse(meta[key]!);
    } catch {
      throw new DataError(file, `checkpoint metadata "${key}" is not JSON`);
    }
  };
  const format = parse('format');
  if (format !== CHECKPOINT_FORMAT) throw new DataError(file, `checkpoint format is ${JSON.stringify(format)}, expected ${CHECKPOINT_FORMAT}`);
  const state: CheckpointState = {
    step: parse('step') as number,
    imagesShown: parse('imagesShown') as number,
    rng: parse('rng') as Record<string, RngState>,
    batches: parse('batches') as BatchPosition,
    configHash: parse('configHash') as string,
    optimizerSteps: parse('optimizerSteps') as Record<string, number>,
    wallTimeSec: parse('wallTimeSec') as number,
    ...('lastLosses' in meta ? { lastLosses: parse('lastLosses') as Record<string, number> } : {}),
  };
  const groups = CHECKPOINT_GROUPS.filter((g) => Object.keys(decoded.tensors).some((n) => n.startsWith(`${g}.`)));
  return { file, tensors: decoded.tensors, state, groups };
}

/**
 * Copies the checkpoint's tensors into `groups`' variables. Every variable must have a tensor of the same shape
 * and dtype, and each requested group must hold no tensor the variables lack; everything is checked before
 * anything is assigned, so a mismatch leaves the variables untouched. Errors name the file and the tensor.
 */
export function restoreVariables(ckpt: CheckpointFile, groups: VariableGroups): void {
  const { file, tensors } = ckpt;
  const problems: string[] = [];
  const plan: [tf.Variable, NamedTensor][] = [];
  for (const group of CHECKPOINT_GROUPS) {
    const vars = groups[group];
    if (!vars) continue;
    for (const [name, v] of vars) {
      const key = `${group}.${name}`;
      const t = tensors[key];
      if (!t) {
        problems.push(`missing tensor ${key} [${v.shape.join(', ')}]`);
        continue;
      }
      const dtype = v.dtype === 'int32' ? 'I32' : 'F32';
      if (t.shape.join(',') !== v.shape.join(',') || t.dtype !== dtype) {
        problems.push(`tensor ${key} is ${t.dtype} [${t.shape.join(', ')}], the network expects ${dtype} [${v.shape.join(', ')}]`);
        continue;
      }
      plan.push([v, t]);
    }
    for (const key of Object.keys(tensors)) {
      if (key.startsWith(`${group}.`) && !vars.has(key.slice(group.length + 1))) problems.push(`unexpected tensor ${key}`);
    }
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 8).join('; ') + (problems.length > 8 ? `; and ${problems.length - 8} more` : '');
    throw new DataError(file, `checkpoint does not match the network: ${shown}`, 'it was written for a different architecture or config; resume with the same --gan and --set options, or start a new run folder');
  }
  tf.tidy(() => {
    for (const [v, t] of plan) v.assign(tf.tensor(t.data as Float32Array | Int32Array, [...t.shape], v.dtype));
  });
}

/** Reads `file` and restores `groups`; returns the loop state stored with it. */
export function loadCheckpoint(file: string, groups: VariableGroups): CheckpointState {
  const ckpt = readCheckpoint(file);
  restoreVariables(ckpt, groups);
  return ckpt.state;
}

/** The checkpoint to resume from in a run folder, or undefined when there is none. */
export function latestCheckpoint(runDir: string): string | undefined {
  const file = path.join(runDir, LATEST_CHECKPOINT);
  return fs.existsSync(file) ? file : undefined;
}

/**
 * `dataset.json` of an nnU-Net raw dataset, in either dialect, reduced to what medsyn needs:
 * - nnU-Net v2: `channel_names` {"0": "CT"}, `labels` {"background": 0, "liver": 1} (name → value),
 *   `numTraining`, `file_ending` (".nii.gz", ".png", …); cases are found by listing imagesTr/.
 * - Medical Segmentation Decathlon / nnU-Net v1: `modality` {"0": "CT"}, `labels` {"0": "background"} (value →
 *   name), `training` [{"image": "./imagesTr/x.nii.gz", "label": "./labelsTr/x.nii.gz"}].
 * Region-based labels (a label given as a list of values, as for BraTS) are rejected: medsyn needs one class per voxel.
 */
import fs from 'node:fs';
import { DataError } from '../../core/errors.js';

export interface NnunetMeta {
  /** Channel names by channel index (v2 `channel_names`, v1 `modality`). */
  readonly channels: readonly string[];
  /** Class names by label value; 0 is the background. */
  readonly classNames: readonly string[];
  /** v2 `file_ending`; undefined for v1, whose paths carry their suffix. */
  readonly fileEnding?: string;
  readonly numTraining?: number;
  /** v1 only: the training pairs, paths relative to ROOT. */
  readonly training?: readonly { readonly image: string; readonly label: string }[];
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export function readNnunetMeta(file: string): NnunetMeta {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new DataError(file, `is not valid JSON (${(err as Error).message})`, 'fix the syntax of dataset.json');
  }
  if (!isObject(json)) throw new DataError(file, 'is not a JSON object', 'dataset.json holds an object with channel_names, labels, numTraining, file_ending');
  const v2 = 'channel_names' in json;
  const channels = indexedNames(file, v2 ? 'channel_names' : 'modality', json[v2 ? 'channel_names' : 'modality']);
  if (v2 && typeof json.file_ending !== 'string') throw new DataError(file, 'has no "file_ending"', 'add e.g. "file_ending": ".nii.gz" (nnU-Net v2 needs it too)');
  if (json.numTraining !== undefined && !(Number.isInteger(json.numTraining) && (json.numTraining as number) >= 0)) {
    throw new DataError(file, `"numTraining" is ${JSON.stringify(json.numTraining)}, not a count`, 'set it to the number of training cases');
  }
  return {
    channels,
    classNames: classNames(file, json.labels),
    fileEnding: v2 ? (json.file_ending as string) : undefined,
    numTraining: json.numTraining as number | undefined,
    training: v2 ? undefined : trainingPairs(file, json.training),
  };
}

/** {"0": "CT", "1": "T2"} → ['CT', 'T2']; keys must be 0…n-1. */
function indexedNames(file: string, key: string, value: unknown): string[] {
  if (!isObject(value) || Object.keys(value).length === 0) {
    throw new DataError(file, `has no "channel_names" (nnU-Net v2) or "modality" (MSD / nnU-Net v1) object`, 'add e.g. "channel_names": {"0": "CT"}');
  }
  return Object.keys(value).map((_, i) => {
    const name = value[String(i)];
    if (typeof name !== 'string') throw new DataError(file, `"${key}" has no channel "${i}" (keys: ${Object.keys(value).join(', ')})`, 'number the channels "0", "1", … as the _0000, _0001, … file suffixes');
    return name;
  });
}

/** Class names by value, from v2 {"name": value} or v1 {"value": "name"}; values must be 0…K-1. */
function classNames(file: string, labels: unknown): string[] {
  if (!isObject(labels) || Object.keys(labels).length === 0) throw new DataError(file, 'has no "labels" object', 'add e.g. "labels": {"background": 0, "liver": 1}');
  const byValue = new Map<number, string>();
  for (const [key, value] of Object.entries(labels)) {
    if (Array.isArray(value)) {
      throw new DataError(
        file,
        `label "${key}" is the region ${JSON.stringify(value)}: region-based labels (overlapping regions, as in BraTS) are not supported`,
        'medsyn needs one class per voxel: give each label a single value, e.g. {"background": 0, "edema": 1, "tumor": 2}',
      );
    }
    const [name, v] = typeof value === 'number' ? [key, value] : typeof value === 'string' && /^\d+$/.test(key) ? [value, Number(key)] : [key, NaN];
    if (!(Number.isInteger(v) && v >= 0 && v < 256)) {
      throw new DataError(file, `label "${key}": ${JSON.stringify(value)} is not a value 0–255`, 'write labels as {"name": value} (nnU-Net v2) or {"value": "name"} (MSD)');
    }
    if (byValue.has(v)) throw new DataError(file, `labels "${byValue.get(v)}" and "${name}" share the value ${v}`, 'give each class its own value');
    byValue.set(v, name);
  }
  const names = Array.from({ length: Math.max(...byValue.keys()) + 1 }, (_, v) => byValue.get(v));
  const missing = names.flatMap((n, v) => (n === undefined ? [v] : []));
  if (missing.length) throw new DataError(file, `"labels" skip the value(s) ${missing.join(', ')}`, 'label values must be consecutive: 0 (background), 1, 2, …');
  return names as string[];
}

function trainingPairs(file: string, training: unknown): { image: string; label: string }[] {
  const valid = Array.isArray(training) && training.every((t) => isObject(t) && typeof t.image === 'string' && typeof t.label === 'string');
  if (!valid) {
    throw new DataError(file, 'has neither "channel_names" (nnU-Net v2) nor a valid "training" list (MSD / nnU-Net v1)', 'MSD datasets list [{"image": "./imagesTr/x.nii.gz", "label": "./labelsTr/x.nii.gz"}, …] under "training"');
  }
  return (training as Json[]).map((t) => ({ image: t.image as string, label: t.label as string }));
}

/**
 * nnU-Net v2 and Medical Segmentation Decathlon (nnU-Net v1) raw datasets:
 *   ROOT/dataset.json
 *   ROOT/imagesTr/CASE_0000<ext>   one file per channel: _0000, _0001, …
 *   ROOT/labelsTr/CASE<ext>
 *   ROOT/imagesTs/…                test images without labels: ignored
 * v2 cases are found by listing imagesTr/; MSD cases are those dataset.json lists under "training" (MSD images have
 * no _0000 suffix; nnU-Net v1 conversions of them do, and both are accepted).
 *
 * Channels: medsyn trains on one image per case, channel 0, and says so in the notes when there are more. Colour
 * images (channel_names R, G, B, or RGB) are read whole, stored either as one RGB file per case (CASE_0000.png, as
 * nnU-Net's own conversion scripts write them) or as three grey files _0000/_0001/_0002, which loadCase interleaves.
 * Modality from the channel names: CT → 'ct', colour → 'rgb', anything else (MRI, T2, ADC, …) → 'mri'.
 * Patient = case id: nnU-Net has no patient concept.
 */
import path from 'node:path';
import { DataError } from '../../core/errors.js';
import { imageSuffix } from '../io/image-io.js';
import { isDir, isFile, listNames } from './files.js';
import { readNnunetMeta } from './nnunet-json.js';
import type { CaseEntry, DatasetReader, DatasetSource, Modality } from './types.js';

/** One training case: its channel files in channel order and its label. */
interface Pair {
  readonly id: string;
  readonly channels: readonly string[];
  readonly label: string;
}

/** Colour datasets name their channels R, G, B (or red, green, blue, or nnU-Net's rgb_to_0_1 scheme), or RGB alone. */
function isColour(channelNames: readonly string[]): boolean {
  const names = channelNames.map((c) => c.toLowerCase()).join(',');
  return ['r,g,b', 'red,green,blue', 'rgb_to_0_1,rgb_to_0_1,rgb_to_0_1', 'rgb', 'rgb_to_0_1'].includes(names);
}

export const nnunetReader: DatasetReader = {
  id: 'nnunet',
  description: 'nnU-Net v2 / Medical Segmentation Decathlon raw layout: dataset.json, imagesTr/CASE_0000.<ext>, labelsTr/CASE.<ext>',
  discover(root: string): DatasetSource {
    const jsonFile = path.join(root, 'dataset.json');
    if (!isFile(jsonFile)) {
      throw new DataError(jsonFile, 'missing', 'is ROOT an nnU-Net raw dataset folder (e.g. Dataset027_ACDC/ or Task02_Heart/, holding dataset.json, imagesTr/ and labelsTr/)?');
    }
    const meta = readNnunetMeta(jsonFile);
    const pairs = meta.training ? listedPairs(root, meta.training, meta.channels) : folderPairs(root, meta.fileEnding!);
    if (pairs.length === 0) throw new DataError(path.join(root, 'imagesTr'), 'holds no training case', 'copy the training images (CASE_0000.<ext>) and labels into imagesTr/ and labelsTr/');
    if (meta.numTraining !== undefined && meta.numTraining !== pairs.length) {
      throw new DataError(jsonFile, `says numTraining ${meta.numTraining} but ${pairs.length} training cases were found`, 'copy the missing cases, or correct numTraining');
    }
    const colour = isColour(meta.channels);
    const cases: CaseEntry[] = pairs.map(({ id, channels, label }) => ({
      patient: id,
      id,
      image: channels[0]!,
      label,
      tags: {},
      ...(colour && channels.length >= 3 ? { rgbChannels: [channels[0]!, channels[1]!, channels[2]!] as const } : {}),
    }));
    const notes: string[] = [];
    if (!colour && meta.channels.length > 1) notes.push(`dataset.json lists ${meta.channels.length} channels (${meta.channels.join(', ')}); medsyn uses channel 0 (${meta.channels[0]}) only`);
    if (cases.some((c) => c.rgbChannels)) notes.push('R, G and B stored as CASE_0000/_0001/_0002 files are combined into one colour image');
    const modality: Modality = colour ? 'rgb' : /^ct$/i.test(meta.channels[0]!) ? 'ct' : 'mri';
    return { dataset: 'nnunet', root, modality, classNames: meta.classNames, binary255: false, cases, notes };
  },
};

/** `stem_0000<suffix>`, `stem_0001<suffix>`, … as long as they exist. */
function channelFiles(stem: string, suffix: string): string[] {
  const name = (c: number) => `${stem}_${String(c).padStart(4, '0')}${suffix}`;
  const files: string[] = [];
  for (let c = 0; isFile(name(c)); c++) files.push(name(c));
  return files;
}

/** nnU-Net v2: every CASE of imagesTr/CASE_XXXX<ending>, with labelsTr/CASE<ending>. */
function folderPairs(root: string, ending: string): Pair[] {
  const [imagesDir, labelsDir] = ['imagesTr', 'labelsTr'].map((d) => path.join(root, d)) as [string, string];
  for (const dir of [imagesDir, labelsDir]) {
    if (!isDir(dir)) throw new DataError(dir, 'missing', `an nnU-Net dataset holds imagesTr/CASE_0000${ending} and labelsTr/CASE${ending}`);
  }
  const ids = new Set<string>();
  for (const name of listNames(imagesDir).filter((n) => n.endsWith(ending))) {
    const id = /^(.+)_\d{4}$/.exec(name.slice(0, -ending.length))?.[1];
    if (!id) throw new DataError(path.join(imagesDir, name), `is not named CASE_XXXX${ending}`, `nnU-Net images carry a 4-digit channel suffix, e.g. ${name.slice(0, -ending.length)}_0000${ending}`);
    ids.add(id);
  }
  const pairs = [...ids].map((id) => {
    const channels = channelFiles(path.join(imagesDir, id), ending);
    if (channels.length === 0) throw new DataError(path.join(imagesDir, `${id}_0000${ending}`), `missing: channel 0 of case ${id}`, 'copy the case again from the dataset archive');
    const label = path.join(labelsDir, id + ending);
    if (!isFile(label)) throw new DataError(label, `missing: the label of ${channels[0]}`, `every training case needs labelsTr/CASE${ending}; move unlabelled images to imagesTs/`);
    return { id, channels, label };
  });
  for (const name of listNames(labelsDir).filter((n) => n.endsWith(ending))) {
    if (!ids.has(name.slice(0, -ending.length))) {
      throw new DataError(path.join(labelsDir, name), `has no image imagesTr/${name.slice(0, -ending.length)}_0000${ending}`, 'copy the image again, or remove the orphan label');
    }
  }
  return pairs;
}

/**
 * MSD / nnU-Net v1: the pairs dataset.json lists under "training", paths relative to ROOT. A multi-modal MSD case is
 * one 4D file (e.g. Prostate: T2 and ADC), which medsyn cannot read: that is reported here, with the conversion.
 */
function listedPairs(root: string, training: readonly { image: string; label: string }[], channelNames: readonly string[]): Pair[] {
  return training.map(({ image, label }) => {
    const imagePath = path.join(root, image);
    const suffix = imageSuffix(imagePath) ?? path.extname(imagePath);
    const stem = imagePath.slice(0, imagePath.length - suffix.length);
    if (channelNames.length > 1 && isFile(imagePath)) {
      throw new DataError(
        imagePath,
        `holds all ${channelNames.length} modalities (${channelNames.join(', ')}) in one 4D file, as the Medical Segmentation Decathlon stores them; medsyn reads 2D and 3D images`,
        'convert the dataset with nnU-Net (nnUNetv2_convert_MSD_dataset), which writes one file per channel (CASE_0000, CASE_0001, …), and pass the converted folder',
      );
    }
    const channels = isFile(imagePath) ? [imagePath] : channelFiles(stem, suffix);
    if (channels.length === 0) {
      throw new DataError(imagePath, `missing (nor is there ${path.basename(stem)}_0000${suffix}): dataset.json lists it under "training"`, 'copy the case again, or remove it from "training"');
    }
    const labelPath = path.join(root, label);
    if (!isFile(labelPath)) throw new DataError(labelPath, 'missing: dataset.json lists it under "training"', 'copy the label again, or remove the case from "training"');
    return { id: path.basename(stem), channels, label: labelPath };
  });
}

/**
 * What a dataset reader returns: the list of cases found under a dataset root, in the publisher's layout,
 * without reading any pixels yet. `loadCase` (case.ts) reads and checks one case.
 */
export type Modality = 'mri' | 'ct' | 'rgb';

export interface CaseEntry {
  /** Patient (subject) id: splits are made by patient, never by slice or frame. */
  readonly patient: string;
  /** Unique id of this image/label pair, e.g. `patient001_ED`. */
  readonly id: string;
  readonly image: string;
  readonly label: string;
  /** Free-form provenance, e.g. { frame: 'ED', group: 'DCM' }. */
  readonly tags: Readonly<Record<string, string>>;
  /**
   * Only for colour images stored one channel per file (nnU-Net `CASE_0000/_0001/_0002` named R, G, B): the three
   * files in R, G, B order (`image` is the first); loadCase interleaves them into one RGB volume.
   */
  readonly rgbChannels?: readonly [string, string, string];
}

export interface DatasetSource {
  /** Reader id: 'acdc' | 'sliver07' | 'idrid' | 'nnunet'. */
  readonly dataset: string;
  readonly root: string;
  readonly modality: Modality;
  /** Class names indexed by label value; index 0 is the background. */
  readonly classNames: readonly string[];
  /** Label files store foreground as 255 (binary masks in TIFF/PNG), mapped to 1 on read. */
  readonly binary255: boolean;
  readonly cases: readonly CaseEntry[];
  /** What discovery skipped or chose, for the user to read, e.g. "skipped 2 testing patients without ground truth". */
  readonly notes?: readonly string[];
}

export interface DatasetReader {
  readonly id: string;
  readonly description: string;
  /** Lists the cases under `root`; throws DataError naming what is missing when the layout does not match. */
  discover(root: string): DatasetSource;
}

/**
 * Medical image headers read from a file's first bytes, without ITK: size, spacing, element type and data layout
 * of NIfTI-1/2 (.nii, .nii.gz) and MetaImage (.mha, .mhd). integrity.ts checks a file's bytes against its header;
 * prepare.ts takes case geometry from it.
 */
import fs from 'node:fs';
import zlib from 'node:zlib';
import { DataError } from '../../core/errors.js';
import type { Geometry } from '../volume.js';

/** The first `bytes` bytes of a file (all of it when it is shorter). */
export function headOf(file: string, bytes: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    return buf.subarray(0, fs.readSync(fd, buf, 0, bytes, 0));
  } finally {
    fs.closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// NIfTI

/** The fields of a NIfTI-1/2 header that medsyn reads. */
export interface NiftiHeader {
  /** sizeof_hdr: 348 (NIfTI-1) or 540 (NIfTI-2). */
  readonly headerSize: 348 | 540;
  /** dim[0], as stored (not checked). */
  readonly rank: number;
  /** dim[1 … rank], at most 7 (none when rank < 1). */
  readonly dims: number[];
  /** pixdim[1 … rank], as many as dims: the voxel spacing. */
  readonly pixdim: number[];
  readonly bitpix: number;
  readonly voxOffset: number;
}

/**
 * NIfTI-1 (sizeof_hdr 348) and NIfTI-2 (540), either byte order (little-endian tried first); undefined when the
 * buffer is shorter than a header or sizeof_hdr fits neither. Offsets used:
 * NIfTI-1: dim int16[8] @40, bitpix int16 @72, pixdim float32[8] @76, vox_offset float32 @108.
 * NIfTI-2: bitpix int16 @14, dim int64[8] @16, pixdim float64[8] @104, vox_offset int64 @168.
 */
export function niftiHeader(b: Buffer): NiftiHeader | undefined {
  if (b.length < 348) return undefined;
  for (const le of [true, false]) {
    const i16 = (o: number) => (le ? b.readInt16LE(o) : b.readInt16BE(o));
    const i64 = (o: number) => Number(le ? b.readBigInt64LE(o) : b.readBigInt64BE(o));
    const f32 = (o: number) => (le ? b.readFloatLE(o) : b.readFloatBE(o));
    const f64 = (o: number) => (le ? b.readDoubleLE(o) : b.readDoubleBE(o));
    const sizeofHdr = le ? b.readInt32LE(0) : b.readInt32BE(0);
    if (sizeofHdr === 348) {
      const rank = i16(40);
      const n = Math.max(0, Math.min(rank, 7));
      const dims = Array.from({ length: n }, (_, k) => i16(42 + 2 * k));
      const pixdim = Array.from({ length: n }, (_, k) => f32(80 + 4 * k));
      return { headerSize: 348, rank, dims, pixdim, bitpix: i16(72), voxOffset: f32(108) };
    }
    if (sizeofHdr === 540 && b.length >= 540) {
      const rank = i64(16);
      const n = Math.max(0, Math.min(rank, 7));
      const dims = Array.from({ length: n }, (_, k) => i64(24 + 8 * k));
      const pixdim = Array.from({ length: n }, (_, k) => f64(112 + 8 * k));
      return { headerSize: 540, rank, dims, pixdim, bitpix: i16(14), voxOffset: i64(168) };
    }
  }
  return undefined;
}

/** Size and spacing of a 2- to 7-dimensional NIfTI image (the first three axes); undefined for any other. */
function niftiGeometry(h: NiftiHeader): Pick<Geometry, 'size' | 'spacing'> | undefined {
  const nd = h.rank;
  if (!(nd >= 2 && nd <= 7)) return undefined;
  const size = [0, 1, 2].map((i) => (i < nd ? h.dims[i]! : 1)) as [number, number, number];
  const spacing = [0, 1, 2].map((i) => (i < nd ? Math.abs(h.pixdim[i]!) || 1 : 1)) as [number, number, number];
  if (!size.every((v) => Number.isInteger(v) && v > 0)) return undefined;
  return { size, spacing };
}

// ---------------------------------------------------------------------------------------------------------------
// MetaImage

/** Bytes per element of MetaImage element types (MetaIO's MET_ValueTypeSize). */
const MET_SIZES: Readonly<Record<string, number>> = {
  MET_CHAR: 1, MET_UCHAR: 1, MET_SHORT: 2, MET_USHORT: 2, MET_INT: 4, MET_UINT: 4, MET_LONG: 4, MET_ULONG: 4,
  MET_LONG_LONG: 8, MET_ULONG_LONG: 8, MET_FLOAT: 4, MET_DOUBLE: 8,
};

/** A MetaImage header (`Key = value` lines up to ElementDataFile). */
export interface MetaImageHeader {
  /** Values by lower-case key (a repeated key: its last value). */
  readonly fields: ReadonlyMap<string, string>;
  /** Length of the header text: every line up to and including ElementDataFile, each with its newline. */
  readonly headerBytes: number;
  /** DimSize; undefined when absent. */
  readonly dims: number[] | undefined;
  /** ElementSpacing, else ElementSize; undefined when both are absent. */
  readonly spacing: number[] | undefined;
  /** Bytes per element of ElementType (MET_SHORT, MET_FLOAT_ARRAY, …); undefined when absent or unknown. */
  readonly elementSize: number | undefined;
}

/** Parses the text of a MetaImage header (a .mhd file, or the start of a .mha file read as latin1). */
export function metaImageHeader(text: string): MetaImageHeader {
  const fields = new Map<string, string>();
  let headerBytes = 0;
  for (const line of text.split('\n')) {
    headerBytes += line.length + 1;
    const m = /^\s*(\w+)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) fields.set(m[1]!.toLowerCase(), m[2]!);
    if (m?.[1]!.toLowerCase() === 'elementdatafile') break;
  }
  const numbers = (key: string): number[] | undefined => fields.get(key)?.split(/\s+/).map(Number);
  return {
    fields,
    headerBytes,
    dims: numbers('dimsize'),
    spacing: numbers('elementspacing') ?? numbers('elementsize'),
    elementSize: MET_SIZES[(fields.get('elementtype') ?? '').replace(/_ARRAY$/, '')],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Geometry

/**
 * Size and spacing from a NIfTI-1/2 (.nii, .nii.gz) or MetaImage (.mha, .mhd) header, reading only the file's
 * first bytes; undefined when the file is another format or the header does not parse (then ITK reads it).
 */
export function fastHeaderGeometry(file: string): Pick<Geometry, 'size' | 'spacing'> | undefined {
  const lower = file.toLowerCase();
  try {
    if (lower.endsWith('.nii') || lower.endsWith('.nii.gz')) {
      let buf = headOf(file, lower.endsWith('.gz') ? 8192 : 544);
      if (lower.endsWith('.gz')) buf = zlib.gunzipSync(buf, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
      const header = niftiHeader(buf);
      return header && niftiGeometry(header);
    }
    if (lower.endsWith('.mha') || lower.endsWith('.mhd')) {
      const { dims, spacing } = metaImageHeader(headOf(file, 8192).toString('latin1'));
      if (!dims || !spacing || dims.length < 2 || dims.length > 3 || spacing.length !== dims.length) return undefined;
      if (![...dims, ...spacing].every((v) => Number.isFinite(v) && v > 0)) return undefined;
      return { size: [dims[0]!, dims[1]!, dims[2] ?? 1], spacing: [spacing[0]!, spacing[1]!, spacing[2] ?? 1] };
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** Size and spacing of an image file: its header alone where medsyn can parse it, else ITK's information read. */
export async function headerGeometry(file: string): Promise<Pick<Geometry, 'size' | 'spacing'>> {
  const fast = fastHeaderGeometry(file);
  if (fast) return fast;
  const { readImageNode } = await import('@itk-wasm/image-io');
  const exitCode = process.exitCode;
  try {
    const image = await readImageNode(file, { informationOnly: true });
    const d = image.imageType.dimension;
    const size = [0, 1, 2].map((i) => (i < d ? Number(image.size[i]) : 1)) as [number, number, number];
    const spacing = [0, 1, 2].map((i) => (i < d ? Number(image.spacing[i]) : 1)) as [number, number, number];
    return { size, spacing };
  } catch (err) {
    const first = String(err).split('\n')[0]!.replace(/^Error:\s*/, '');
    throw new DataError(file, `cannot read its image header (${first})`, 'the file is corrupt or truncated: copy it again from the dataset archive');
  } finally {
    process.exitCode = exitCode; // ITK-wasm's failed reads set process.exitCode = 1 (Emscripten's exit)
  }
}

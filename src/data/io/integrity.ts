/**
 * Byte-level checks that an image file is complete, run before ITK reads it: ITK-wasm returns plausible garbage for
 * some damaged files (a 100-byte prefix of a valid .nii.gz reads "fine"). Each check compares the bytes a file
 * holds with the bytes its own header promises. Formats without a check here are left to ITK.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { DataError } from '../../core/errors.js';
import { headOf, metaImageHeader, niftiHeader } from './headers.js';

const RECOPY = 'the file is truncated or corrupt: copy it again from the dataset archive (and compare its checksum)';

export function checkIntegrity(file: string): void {
  const lower = file.toLowerCase();
  if (lower.endsWith('.nii.gz')) checkNifti(file, gunzip(file), 'decompressed ');
  else if (lower.endsWith('.nii')) checkNifti(file, fs.readFileSync(file), '');
  else if (lower.endsWith('.mhd')) checkMetaImage(file, fs.readFileSync(file, 'latin1'), false);
  else if (lower.endsWith('.mha')) checkMetaImage(file, headOf(file, 65536).toString('latin1'), true);
  else if (/\.jpe?g$/.test(lower)) checkJpeg(file, fs.readFileSync(file));
  else if (/\.tiff?$/.test(lower)) checkTiff(file, fs.readFileSync(file));
  else if (lower.endsWith('.png')) checkPng(file, fs.readFileSync(file));
}

/** The whole decompressed stream; a file without the gzip magic (1f 8b) is returned as it is. */
function gunzip(file: string): Buffer {
  const bytes = fs.readFileSync(file);
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  try {
    return zlib.gunzipSync(bytes);
  } catch (err) {
    throw new DataError(file, `truncated or corrupt gzip stream (${(err as Error).message}; the file holds ${bytes.length} bytes)`, RECOPY);
  }
}

/** NIfTI-1/2 (headers.ts reads the header): the voxel data must follow vox_offset in full. */
function checkNifti(file: string, bytes: Buffer, decompressed: string): void {
  if (bytes.length < 348) throw new DataError(file, `holds ${bytes.length} ${decompressed}bytes, fewer than a NIfTI header (348 bytes)`, RECOPY);
  const header = niftiHeader(bytes);
  if (!header) {
    const found = bytes.subarray(0, 4).toString('hex');
    throw new DataError(file, `is not a NIfTI file: sizeof_hdr is neither 348 nor 540 in either byte order (first bytes ${found})`, RECOPY);
  }
  const { dims, bitpix, voxOffset, headerSize } = header;
  if (!(dims.length >= 1 && dims.length <= 7 && dims.every((d) => Number.isInteger(d) && d > 0)) || !(bitpix > 0) || !(voxOffset >= 0)) {
    throw new DataError(file, `NIfTI header is corrupt (dim ${dims.join('×')}, bitpix ${bitpix}, vox_offset ${voxOffset})`, RECOPY);
  }
  const needed = Math.max(voxOffset, headerSize) + Math.ceil((dims.reduce((a, b) => a * b, 1) * bitpix) / 8);
  if (bytes.length < needed) {
    throw new DataError(
      file,
      `holds ${bytes.length} ${decompressed}bytes but its NIfTI header (${dims.join('×')} voxels of ${bitpix} bits from byte ${voxOffset}) needs ${needed}`,
      RECOPY,
    );
  }
}

/**
 * MetaImage: the pixel data (the file named by ElementDataFile, or what follows the header when it is LOCAL)
 * must hold DimSize product × element size × ElementNumberOfChannels bytes, after inflating when CompressedData is
 * True. Multi-file data (LIST, or a %d pattern) and unknown element types are left to ITK.
 */
function checkMetaImage(file: string, head: string, local: boolean): void {
  const { fields, headerBytes, dims, elementSize } = metaImageHeader(head);
  const dataName = fields.get('elementdatafile');
  if (!dataName || /^LIST/.test(dataName) || dataName.includes('%') || !elementSize || !dims?.every((d) => d > 0)) return;
  const channels = Number(fields.get('elementnumberofchannels') ?? 1);
  const expected = dims.reduce((a, b) => a * b, 1) * elementSize * channels;
  const inHeader = local || dataName === 'LOCAL';
  const dataFile = inHeader ? file : path.join(path.dirname(file), dataName);
  const skip = inHeader ? headerBytes : Math.max(0, Number(fields.get('headersize') ?? 0));
  const compressed = /^true$/i.test(fields.get('compresseddata') ?? '');
  const found = compressed ? inflated(dataFile, skip) : fs.statSync(dataFile).size - skip;
  // HeaderSize = -1: the pixel data are the last bytes of the file, after a header of unknown length.
  const ok = fields.get('headersize') === '-1' && !compressed ? found >= expected : found === expected;
  if (!ok) {
    const what = `${dims.join('×')} × ${fields.get('elementtype')} (${elementSize} B)${channels > 1 ? ` × ${channels} channels` : ''}`;
    throw new DataError(
      dataFile,
      `holds ${found} bytes of ${compressed ? 'inflated ' : ''}pixel data where the MetaImage header ${path.basename(file)} promises ${what} = ${expected} bytes`,
      `${RECOPY}; a .mhd and its .raw must come from the same case`,
    );
  }
}

function inflated(file: string, skip: number): number {
  try {
    return zlib.inflateSync(fs.readFileSync(file).subarray(skip)).length;
  } catch (err) {
    throw new DataError(file, `truncated or corrupt zlib stream in MetaImage pixel data (${(err as Error).message})`, RECOPY);
  }
}

/** JPEG: SOI (FF D8) first, EOI (FF D9) last; zero padding after EOI is tolerated. */
function checkJpeg(file: string, bytes: Buffer): void {
  let end = bytes.length;
  while (end > 2 && bytes[end - 1] === 0) end--;
  const last = bytes.subarray(Math.max(0, end - 2), end).toString('hex');
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) {
    throw new DataError(file, `is not a JPEG file: it starts with ${bytes.subarray(0, 2).toString('hex')}, expected ffd8`, RECOPY);
  }
  if (last !== 'ffd9') throw new DataError(file, `JPEG stream is truncated: it ends with ${last} instead of the end-of-image marker ffd9 (${bytes.length} bytes)`, RECOPY);
}

/** PNG: the signature first and the IEND chunk (length 0, "IEND", CRC ae426082) last. */
function checkPng(file: string, bytes: Buffer): void {
  if (bytes.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a') throw new DataError(file, 'is not a PNG file (no PNG signature)', RECOPY);
  const tail = bytes.subarray(-12).toString('hex');
  if (tail !== '0000000049454e44ae426082') throw new DataError(file, `PNG stream is truncated: it ends with ${tail.slice(-8)} instead of the IEND chunk (ae426082)`, RECOPY);
}

/**
 * TIFF: a header (II*\0 little-endian or MM\0* big-endian), then in the first IFD (12-byte entries) the strip or
 * tile offsets and byte counts, whose data must lie inside the file. BigTIFF (version 43): the header only.
 */
function checkTiff(file: string, b: Buffer): void {
  const order = b.subarray(0, 2).toString('latin1');
  const le = order === 'II';
  const version = b.length >= 4 ? (le ? b.readUInt16LE(2) : b.readUInt16BE(2)) : 0;
  if ((order !== 'II' && order !== 'MM') || (version !== 42 && version !== 43)) {
    throw new DataError(file, `is not a TIFF file: it starts with ${b.subarray(0, 4).toString('hex')}, expected 49492a00 (II*\\0) or 4d4d002a (MM\\0*)`, RECOPY);
  }
  if (version === 43) return;
  const u16 = (o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const ifd = b.length >= 8 ? u32(4) : b.length;
  if (!(ifd + 2 <= b.length) || ifd + 2 + 12 * u16(ifd) > b.length) {
    throw new DataError(file, `TIFF is truncated: its first directory (at byte ${ifd}) lies beyond the end of the file (${b.length} bytes)`, RECOPY);
  }
  const tags = new Map<number, number[]>();
  for (let e = ifd + 2; e < ifd + 2 + 12 * u16(ifd); e += 12) {
    const [type, count] = [u16(e + 2), u32(e + 4)];
    const size = type === 3 ? 2 : type === 4 ? 4 : 0; // SHORT or LONG; offsets and counts use no other type
    if (!size) continue;
    const at = count * size <= 4 ? e + 8 : u32(e + 8);
    if (at + count * size > b.length) throw new DataError(file, `TIFF is truncated: tag ${u16(e)} points past the end of the file`, RECOPY);
    tags.set(u16(e), Array.from({ length: count }, (_, k) => (size === 2 ? u16(at + 2 * k) : u32(at + 4 * k))));
  }
  const offsets = tags.get(273) ?? tags.get(324) ?? [];
  const counts = tags.get(279) ?? tags.get(325) ?? [];
  const end = offsets.reduce((max, o, k) => Math.max(max, o + (counts[k] ?? 0)), 0);
  if (end > b.length) throw new DataError(file, `TIFF is truncated: its pixel data end at byte ${end} but the file holds ${b.length} bytes`, RECOPY);
}

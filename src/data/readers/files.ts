/** Folder listings for the dataset readers: natural order (patient2 before patient10), hidden entries left out. */
import fs from 'node:fs';
import path from 'node:path';

export const naturalOrder = (a: string, b: string): number => a.localeCompare(b, 'en', { numeric: true });

export function isDir(p: string): boolean {
  return fs.statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

export function isFile(p: string): boolean {
  return fs.statSync(p, { throwIfNoEntry: false })?.isFile() ?? false;
}

/**
 * Names in `dir`, without hidden ones: dataset archives made on macOS carry `._NAME` AppleDouble files (the
 * Medical Segmentation Decathlon's do) that must not pass for cases.
 */
export function listNames(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((n) => !n.startsWith('.'))
    .sort(naturalOrder);
}

/** Every visible file under `root`, at any depth, as full paths. */
export function walkFiles(root: string): string[] {
  return listNames(root).flatMap((name) => {
    const p = path.join(root, name);
    return isDir(p) ? walkFiles(p) : isFile(p) ? [p] : [];
  });
}

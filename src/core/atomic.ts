import fs from 'node:fs';
import path from 'node:path';

/** A sibling temporary path, unique to this process, that `rename` can move into place atomically. */
export function tempPathFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.tmp-${process.pid}-${Date.now().toString(36)}`);
}

/** Writes a file so that readers see either the old content or the new, never a half-written file. */
export function writeFileAtomic(target: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const tmp = tempPathFor(target);
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, target);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

export function writeJsonAtomic(target: string, value: unknown): void {
  writeFileAtomic(target, JSON.stringify(value, null, 2) + '\n');
}

/**
 * Builds a directory in a temporary sibling with `build`, then swaps it into place: a crash at any point
 * leaves either the previous directory or the complete new one (the previous one is removed last).
 */
export async function replaceDirAtomic(target: string, build: (tmpDir: string) => Promise<void>): Promise<void> {
  fs.mkdirSync(path.dirname(path.resolve(target)), { recursive: true });
  const tmp = tempPathFor(target);
  fs.mkdirSync(tmp);
  try {
    await build(tmp);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  const old = fs.existsSync(target) ? tempPathFor(target) + '-old' : null;
  if (old) fs.renameSync(target, old);
  fs.renameSync(tmp, target);
  if (old) fs.rmSync(old, { recursive: true, force: true });
}

/** Removes leftovers of interrupted atomic writes next to `target` (temporary siblings of any process). */
export function removeStaleTemps(target: string): void {
  const dir = path.dirname(path.resolve(target));
  const prefix = `.${path.basename(target)}.tmp-`;
  if (!fs.existsSync(dir)) return;
  for (const name of fs.readdirSync(dir)) {
    if (name.startsWith(prefix)) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
  }
}

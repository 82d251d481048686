/**
 * The committed src/core/kernels/native/medsyn-kernels.wasm must be built from the committed
 * native/*.c with scripts/build-wasm.sh's flags (CI has no clang to rebuild it). The build script
 * records sha256(sources' bytes in order + flags) and the .wasm's sha256 in medsyn-kernels.json;
 * editing a source or the flags without running `npm run build:wasm` fails here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root from dist/test/engine (compiled) or test/engine (source). */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}

const root = packageRoot();
const read = (relative: string): Buffer => fs.readFileSync(path.join(root, relative));

/** A shell variable's double-quoted value in scripts/build-wasm.sh. */
function scriptVariable(name: string): string {
  const match = new RegExp(`^${name}="([^"]*)"$`, 'm').exec(read('scripts/build-wasm.sh').toString());
  assert.ok(match, `scripts/build-wasm.sh defines no ${name}="…"`);
  return match[1]!;
}

const sidecar = JSON.parse(read('src/core/kernels/native/medsyn-kernels.json').toString()) as {
  sources: string; flags: string; sourcesSha256: string; wasmSha256: string;
};

test('medsyn-kernels.wasm was built from the current native sources and flags (else: npm run build:wasm)', () => {
  const sources = scriptVariable('SOURCES');
  const flags = scriptVariable('FLAGS');
  assert.equal(sidecar.sources, sources, 'the build script compiles other sources than the .wasm was built from');
  assert.equal(sidecar.flags, flags, 'the build script uses other flags than the .wasm was built with');
  const hash = createHash('sha256');
  for (const source of sources.split(/\s+/)) hash.update(read(source));
  hash.update(flags);
  assert.equal(hash.digest('hex'), sidecar.sourcesSha256, 'native sources changed since the .wasm was built');
});

test('medsyn-kernels.wasm is the file the build script wrote', () => {
  const wasm = createHash('sha256').update(read('src/core/kernels/native/medsyn-kernels.wasm')).digest('hex');
  assert.equal(wasm, sidecar.wasmSha256);
});

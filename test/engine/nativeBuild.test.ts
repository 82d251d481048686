/**
 * The committed src/core/kernels/native/medsyn-kernels.wasm and medsyn-kernels-relaxed.wasm must be built
 * from the committed native/*.c and *.h with scripts/build-wasm.sh's flags (CI has no clang to rebuild
 * them). The build script records sha256(sources' and headers' bytes in order + flags + ' ' + relaxed flags)
 * and the .wasm files' sha256 in medsyn-kernels.json; editing a source, a header or the flags without
 * running `npm run build:wasm` fails here.
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
  sources: string; headers: string; flags: string; relaxedFlags: string;
  sourcesSha256: string; wasmSha256: string; relaxedWasmSha256: string;
};

test('the .wasm files were built from the current native sources, headers and flags (else: npm run build:wasm)', () => {
  const sources = scriptVariable('SOURCES');
  const headers = scriptVariable('HEADERS');
  const flags = scriptVariable('FLAGS');
  const relaxedFlags = scriptVariable('RELAXED_FLAGS');
  assert.equal(sidecar.sources, sources, 'the build script compiles other sources than the .wasm was built from');
  assert.equal(sidecar.headers, headers, 'the build script lists other headers than the .wasm was built with');
  assert.equal(sidecar.flags, flags, 'the build script uses other flags than the .wasm was built with');
  assert.equal(sidecar.relaxedFlags, relaxedFlags, 'the build script uses other relaxed-SIMD flags than the .wasm was built with');
  const hash = createHash('sha256');
  for (const file of [...sources.split(/\s+/), ...headers.split(/\s+/)]) hash.update(read(file));
  hash.update(`${flags} ${relaxedFlags}`);
  assert.equal(hash.digest('hex'), sidecar.sourcesSha256, 'native sources changed since the .wasm was built');
});

test('every native/ source and header is in the build script (else the staleness check misses its edits)', () => {
  const listed = new Set([...scriptVariable('SOURCES').split(/\s+/), ...scriptVariable('HEADERS').split(/\s+/)]);
  const present = fs.readdirSync(path.join(root, 'native')).filter((f) => /\.[ch]$/.test(f)).map((f) => `native/${f}`);
  assert.deepEqual(present.filter((f) => !listed.has(f)), []);
});

test('medsyn-kernels.wasm and medsyn-kernels-relaxed.wasm are the files the build script wrote', () => {
  const sha = (file: string): string => createHash('sha256').update(read(`src/core/kernels/native/${file}`)).digest('hex');
  assert.equal(sha('medsyn-kernels.wasm'), sidecar.wasmSha256);
  assert.equal(sha('medsyn-kernels-relaxed.wasm'), sidecar.relaxedWasmSha256);
});

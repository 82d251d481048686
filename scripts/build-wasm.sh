#!/bin/sh
# Rebuilds src/core/kernels/native/medsyn-kernels.wasm from native/*.c (npm run build:wasm).
# Needs Debian's clang-14 and lld-14 (wasm-ld); CI has neither, so the .wasm is committed, and
# medsyn-kernels.json records the sha256 of the sources and flags it was built from: a test fails
# when the committed .wasm is stale.
set -eu
cd "$(dirname "$0")/.."
CLANG="${CLANG:-clang-14}"
OUT=src/core/kernels/native
SOURCES="native/gemm.c native/conv.c native/reduce.c native/norm.c native/act.c native/linalg.c"
# -fno-builtin: no libc, so clang must not turn loops into memset/memcpy calls.
# Shared memory (atomics, max 2 GiB) so MEDSYN_THREADS > 1 can run passes on worker threads.
FLAGS="--target=wasm32 -msimd128 -matomics -mbulk-memory -O3 -nostdlib -fno-builtin -Wl,--no-entry -Wl,--import-memory -Wl,--shared-memory -Wl,--max-memory=2147483648 -Wl,--export=__heap_base -Wl,--strip-all"
mkdir -p "$OUT"
# shellcheck disable=SC2086
"$CLANG" $FLAGS -o "$OUT/medsyn-kernels.wasm" $SOURCES
# sha256 of the sources' bytes in order followed by the flags (test/engine/nativeBuild.test.ts recomputes it).
# shellcheck disable=SC2086
source_hash=$({ cat $SOURCES; printf '%s' "$FLAGS"; } | sha256sum | cut -d' ' -f1)
wasm_hash=$(sha256sum "$OUT/medsyn-kernels.wasm" | cut -d' ' -f1)
printf '{\n  "sources": "%s",\n  "flags": "%s",\n  "sourcesSha256": "%s",\n  "wasmSha256": "%s",\n  "compiler": "%s"\n}\n' \
  "$SOURCES" "$FLAGS" "$source_hash" "$wasm_hash" "$("$CLANG" --version | head -n 1)" > "$OUT/medsyn-kernels.json"
echo "built $OUT/medsyn-kernels.wasm ($(wc -c < "$OUT/medsyn-kernels.wasm") bytes) from sources sha256 $source_hash"

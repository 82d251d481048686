#!/bin/sh
# Rebuilds src/core/kernels/native/medsyn-kernels.wasm and medsyn-kernels-relaxed.wasm from native/*.c
# (npm run build:wasm). Needs Debian's clang-16 and lld-16 (wasm-ld; apt-get install clang-16 lld-16);
# CI has neither, so the .wasm files are committed, and medsyn-kernels.json records the sha256 of the
# sources, headers and flags they were built from: a test fails when a committed .wasm is stale.
# Two builds of the same sources: portable SIMD128, and relaxed SIMD (fused multiply-add in the GEMMs;
# clang 16 is the first to emit its final opcodes), which nativeModule.ts loads when the engine has it.
set -eu
cd "$(dirname "$0")/.."
CLANG="${CLANG:-clang-16}"
OUT=src/core/kernels/native
SOURCES="native/gemm.c native/conv.c native/winograd.c native/reduce.c native/norm.c native/act.c native/linalg.c native/pool.c"
HEADERS="native/simd.h native/conv.h"
# -fno-builtin: no libc, so clang must not turn loops into memset/memcpy calls.
# Shared memory (atomics, max 2 GiB) so MEDSYN_THREADS > 1 can run passes on worker threads; __stack_pointer is
# exported so each worker's instance gets its own shadow stack (nativeModule.ts).
FLAGS="--target=wasm32 -msimd128 -matomics -mbulk-memory -O3 -nostdlib -fno-builtin -Wl,--no-entry -Wl,--import-memory -Wl,--shared-memory -Wl,--max-memory=2147483648 -Wl,--export=__heap_base -Wl,--export=__stack_pointer -Wl,--strip-all"
RELAXED_FLAGS="-mrelaxed-simd"
mkdir -p "$OUT"
# shellcheck disable=SC2086
"$CLANG" $FLAGS -o "$OUT/medsyn-kernels.wasm" $SOURCES
# shellcheck disable=SC2086
"$CLANG" $FLAGS $RELAXED_FLAGS -o "$OUT/medsyn-kernels-relaxed.wasm" $SOURCES
# sha256 of the sources' and headers' bytes in order followed by the flags, a space and the relaxed flags
# (test/engine/nativeBuild.test.ts recomputes it).
# shellcheck disable=SC2086
source_hash=$({ cat $SOURCES $HEADERS; printf '%s %s' "$FLAGS" "$RELAXED_FLAGS"; } | sha256sum | cut -d' ' -f1)
wasm_hash=$(sha256sum "$OUT/medsyn-kernels.wasm" | cut -d' ' -f1)
relaxed_hash=$(sha256sum "$OUT/medsyn-kernels-relaxed.wasm" | cut -d' ' -f1)
printf '{\n  "sources": "%s",\n  "headers": "%s",\n  "flags": "%s",\n  "relaxedFlags": "%s",\n  "sourcesSha256": "%s",\n  "wasmSha256": "%s",\n  "relaxedWasmSha256": "%s",\n  "compiler": "%s"\n}\n' \
  "$SOURCES" "$HEADERS" "$FLAGS" "$RELAXED_FLAGS" "$source_hash" "$wasm_hash" "$relaxed_hash" "$("$CLANG" --version | head -n 1)" > "$OUT/medsyn-kernels.json"
echo "built $OUT/medsyn-kernels.wasm ($(wc -c < "$OUT/medsyn-kernels.wasm") bytes) and medsyn-kernels-relaxed.wasm ($(wc -c < "$OUT/medsyn-kernels-relaxed.wasm") bytes) from sources sha256 $source_hash"

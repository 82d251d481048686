/*
 * Column sums for Sum/Mean over leading axes (batch-norm statistics, bias and β/γ gradients):
 * x viewed as [rows, cols], out[c] = Σ_r x[r, c]. TF.js 4.22's wasm Sum/Mean transpose x so the
 * reduced axes come last and then reduce; this reads x once, in order.
 * Rows are summed in blocks of 64 into `part` before being added to `out`, which keeps float32
 * rounding error close to pairwise summation's on 10^5-row inputs.
 */
#include <wasm_simd128.h>

#define BLOCK 64

static void add_row(float *acc, const float *row, int cols) {
  int c = 0;
  for (; c + 4 <= cols; c += 4) wasm_v128_store(acc + c, wasm_f32x4_add(wasm_v128_load(acc + c), wasm_v128_load(row + c)));
  for (; c < cols; c++) acc[c] += row[c];
}

/* out[cols] = column sums of x[rows, cols]; part: `cols` floats of scratch. */
__attribute__((export_name("sum_rows"))) void sum_rows(const float *x, int rows, int cols, float *out, float *part) {
  for (int c = 0; c < cols; c++) out[c] = 0.0f;
  for (int r0 = 0; r0 < rows; r0 += BLOCK) {
    int r1 = rows - r0 < BLOCK ? rows : r0 + BLOCK;
    for (int c = 0; c < cols; c++) part[c] = 0.0f;
    for (int r = r0; r < r1; r++) add_row(part, x + (long)r * cols, cols);
    add_row(out, part, cols);
  }
}

/* Runs the compiled MLP on a fixed input and prints its outputs; with
 * --reference it prints them next to the interpreter's and checks they agree
 * to 1e-5 relative.
 *
 *   nyxc mlp.nyx --weights mlp.safetensors -o mlp.o --header mlp.h
 *   cc main.c mlp.o -lnyxrt -o mlp
 *   ./mlp [--dump-input input.npy] [--reference reference.npy]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nyx/npy.h>

#include "mlp.h"

static float x[MLP_INPUT_X_ELEMENTS];
static float probs[MLP_OUTPUT_PROBS_ELEMENTS];

int main(int argc, char **argv) {
  const char *dump_input = NULL, *reference = NULL;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--dump-input"))
      dump_input = argv[i + 1];
    else if (!strcmp(argv[i], "--reference"))
      reference = argv[i + 1];
  }

  for (int i = 0; i < MLP_INPUT_X_ELEMENTS; ++i)
    x[i] = (float)sin(0.37 * i) * 2.0f;

  /* The arena is sized at compile time; the model needs it 64-aligned. */
  size_t arena_bytes =
      (MLP_ARENA_BYTES + MLP_ALIGN - 1) / MLP_ALIGN * MLP_ALIGN;
  void *arena = arena_bytes ? aligned_alloc(MLP_ALIGN, arena_bytes) : NULL;
  int status = mlp_run(x, probs, arena);
  free(arena);
  if (status != NYX_OK) {
    fprintf(stderr, "mlp_run failed: %s\n", nyx_status_string(status));
    return 1;
  }

  if (dump_input) {
    const int64_t shape[] = MLP_INPUT_X_SHAPE;
    if (nyx_npy_write(dump_input, NYX_F32, MLP_INPUT_X_RANK, shape, x)) {
      fprintf(stderr, "%s\n", nyx_last_error());
      return 1;
    }
  }

  float *ref = NULL;
  if (reference) {
    nyx_dtype dtype;
    int rank;
    int64_t shape[8];
    size_t bytes;
    void *data;
    if (nyx_npy_read(reference, &dtype, &rank, shape, &data, &bytes) ||
        dtype != NYX_F32 || bytes != sizeof probs) {
      fprintf(stderr, "%s: not an f32 array of the output's size %s\n",
              reference, nyx_last_error());
      return 1;
    }
    ref = data;
  }

  const int64_t out_shape[] = MLP_OUTPUT_PROBS_SHAPE;
  int64_t rows = out_shape[0], cols = out_shape[1];
  double worst = 0;
  for (int64_t r = 0; r < rows; ++r) {
    printf("row %lld:\n", (long long)r);
    for (int64_t c = 0; c < cols; ++c) {
      float got = probs[r * cols + c];
      if (!ref) {
        printf("  class %lld  %.7f\n", (long long)c, got);
        continue;
      }
      float want = ref[r * cols + c];
      double rel = fabs(got - want) / fmax(fabs(want), 1e-30);
      worst = fmax(worst, rel);
      printf("  class %lld  compiled %.7f  interpreter %.7f  rel.err %.1e\n",
             (long long)c, got, want, rel);
    }
  }
  if (ref) {
    printf("max relative error %.2e (tolerance 1e-5): %s\n", worst,
           worst <= 1e-5 ? "OK" : "MISMATCH");
    nyx_free(ref);
    return worst <= 1e-5 ? 0 : 1;
  }
  return 0;
}

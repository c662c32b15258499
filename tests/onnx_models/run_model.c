/* Runs a model compiled with `nyxc model.onnx --name model` (one f32 input
 * named "input", one f32 output named "output") on an input read from a .npy
 * file and writes its output to another .npy file.
 *
 *   cc -I <dir of model.h> run_model.c model.o -lnyxrt -lm -o run_model
 *   ./run_model input.npy output.npy
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nyx/npy.h>

#include "model.h"

static int fail(const char *what, int status) {
  fprintf(stderr, "run_model: %s: %s (%s)\n", what, nyx_status_string(status),
          nyx_last_error());
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s input.npy output.npy\n", argv[0]);
    return 2;
  }

  nyx_dtype dtype;
  int rank;
  int64_t shape[NYX_NPY_MAX_RANK];
  void *input;
  size_t nbytes;
  int status = nyx_npy_read(argv[1], &dtype, &rank, shape, &input, &nbytes);
  if (status != NYX_OK)
    return fail(argv[1], status);
  const int64_t want_shape[] = MODEL_INPUT_INPUT_SHAPE;
  if (dtype != MODEL_INPUT_INPUT_DTYPE || rank != MODEL_INPUT_INPUT_RANK ||
      memcmp(shape, want_shape, sizeof want_shape) != 0) {
    fprintf(stderr,
            "run_model: %s holds a %s array of rank %d; expected the "
            "model's input type (%s, rank %d, %d elements)\n",
            argv[1], nyx_dtype_name(dtype), rank,
            nyx_dtype_name(MODEL_INPUT_INPUT_DTYPE), MODEL_INPUT_INPUT_RANK,
            (int)MODEL_INPUT_INPUT_ELEMENTS);
    return 1;
  }

  float *output = malloc(MODEL_OUTPUT_OUTPUT_BYTES);
  size_t arena_bytes =
      (MODEL_ARENA_BYTES + MODEL_ALIGN - 1) / MODEL_ALIGN * MODEL_ALIGN;
  void *arena = arena_bytes ? aligned_alloc(MODEL_ALIGN, arena_bytes) : NULL;
  if (!output || (arena_bytes && !arena)) {
    fprintf(stderr, "run_model: out of memory\n");
    return 1;
  }

  status = model_run(input, output, arena);
  if (status != NYX_OK)
    return fail("model_run", status);

  const int64_t out_shape[] = MODEL_OUTPUT_OUTPUT_SHAPE;
  status = nyx_npy_write(argv[2], MODEL_OUTPUT_OUTPUT_DTYPE,
                         MODEL_OUTPUT_OUTPUT_RANK, out_shape, output);
  if (status != NYX_OK)
    return fail(argv[2], status);
  free(arena);
  free(output);
  nyx_free(input);
  return 0;
}

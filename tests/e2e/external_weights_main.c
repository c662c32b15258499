/* The same model built with embedded and with external weights: the
 * external build refuses to run before its weights are loaded, reports a
 * bad weights file, and once loaded computes exactly what the embedded
 * build computes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embedded.h"
#include "external.h"

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s (%s)\n", __FILE__, __LINE__,    \
              #cond, nyx_last_error());                                        \
      return 1;                                                                \
    }                                                                          \
  } while (0)

static float x[EMBEDDED_INPUT_X_ELEMENTS];
static float y_embedded[EMBEDDED_OUTPUT_PROBS_ELEMENTS];
static float y_external[EXTERNAL_OUTPUT_PROBS_ELEMENTS];

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s GOOD.safetensors MISSING BAD.safetensors\n",
            argv[0]);
    return 2;
  }
  for (int i = 0; i < EMBEDDED_INPUT_X_ELEMENTS; ++i)
    x[i] = (float)((i * 37) % 11) / 7.0f - 0.6f;
  void *arena = aligned_alloc(EMBEDDED_ALIGN, 1 << 20);
  CHECK(EMBEDDED_ARENA_BYTES <= (1 << 20) && EXTERNAL_ARENA_BYTES <= (1 << 20));
  CHECK(EMBEDDED_WEIGHTS_BYTES == EXTERNAL_WEIGHTS_BYTES);

  CHECK(embedded_run(x, y_embedded, arena) == NYX_OK);
  CHECK(external_run(x, y_external, arena) == NYX_ERR_WEIGHTS_NOT_LOADED);
  CHECK(external_load_weights(argv[2]) == NYX_ERR_IO);
  CHECK(external_load_weights(argv[3]) == NYX_ERR_SHAPE_MISMATCH);
  CHECK(strstr(nyx_last_error(), "fc1.weight") != NULL);
  CHECK(external_run(x, y_external, arena) == NYX_ERR_WEIGHTS_NOT_LOADED);
  CHECK(external_load_weights(argv[1]) == NYX_OK);
  CHECK(external_run(x, y_external, arena) == NYX_OK);
  CHECK(memcmp(y_embedded, y_external, sizeof y_embedded) == 0);
  CHECK(embedded_run(NULL, y_embedded, arena) == NYX_ERR_INVALID_ARGUMENT);
  CHECK(embedded_run(x, y_embedded, (char *)arena + 4) == NYX_ERR_MISALIGNED);
  external_unload_weights();
  CHECK(external_run(x, y_external, arena) == NYX_ERR_WEIGHTS_NOT_LOADED);
  free(arena);
  printf("external weights: OK\n");
  return 0;
}

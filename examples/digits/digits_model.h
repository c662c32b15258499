/* A model compiled by `nyxc --train`, seen through its packed entry points
 * and size macros, so one training program serves every model. model.c fills
 * one in from a generated header. */
#ifndef DIGITS_MODEL_H
#define DIGITS_MODEL_H

#include <stddef.h>
#include <stdint.h>

#define DIGITS_MAX_RANK 8

typedef struct digits_model {
  const char *name;
  /* The parameters, in declaration order: <NAME>_NUM_PARAMS and
   * <NAME>_PARAM_BYTES. */
  int num_params;
  const size_t *param_bytes;
  /* Their names in the model (<NAME>_PARAM_NAMES), ranks and shapes, for
   * saving them in a file `nyxc --weights` reads. */
  const char *const *param_names;
  const int *param_ranks;
  const int64_t (*param_shapes)[DIGITS_MAX_RANK];
  /* The input x of <name>_run (<NAME>_INPUT_X_RANK, _SHAPE). */
  int x_rank;
  const int64_t *x_shape;
  /* Every argument of <name>_train_step before the arena, in order: the
   * parameters, the optimizer state (ending with the step counter for
   * optimizers that keep one), x, labels, lr, loss
   * (<NAME>_TRAIN_NUM_BUFFERS and <NAME>_TRAIN_BUFFER_BYTES). */
  int train_num_buffers;
  const size_t *train_buffer_bytes;
  /* Every argument of <name>_run before the arena: the parameters, x,
   * logits (<NAME>_NUM_BUFFERS and <NAME>_BUFFER_BYTES). */
  int run_num_buffers;
  const size_t *run_buffer_bytes;
  size_t arena_bytes;       /* <NAME>_ARENA_BYTES, for <name>_run */
  size_t train_arena_bytes; /* <NAME>_TRAIN_ARENA_BYTES */
  size_t align; /* max of <NAME>_ALIGN and <NAME>_TRAIN_ALIGN, for everything */
  int (*init_params_packed)(uint64_t seed, void **params);
  /* args: the parameters, x, logits. */
  int (*run_packed)(void **args, void *arena);
  /* args: the train_num_buffers buffers above. */
  int (*train_step_packed)(void **args, void *arena);
} digits_model;

extern const digits_model digits_compiled_model;

#endif /* DIGITS_MODEL_H */

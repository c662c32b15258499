/* Times one compiled training step, `nyxc --train --name bench_train`,
 * linked into this program (docs/training.md: bench_train_train_step_packed).
 *
 *   train_step x=X.bin labels=L.bin batches=N lr=R [seed=S]
 *              [params_out=P.bin] [time=0|1] [warmup= min_reps= budget=]
 *
 * The parameters start from bench_train_init_params(seed) and are written to
 * `params_out` before any step, so that a peer can start from the same
 * values; the optimizer state starts zero-filled. X.bin holds N batches of
 * inputs and L.bin N batches of int64 labels, back to back. The program takes
 * N steps, batch i at step i, printing each step's loss:
 *
 *   loss step=0 value=2.30258512
 *
 * then, with time=1, times further steps (cycling through the batches, the
 * parameters and state updated in place as in training) and prints the
 * `result` line of timing.h. The thread count is the runtime's
 * (NYX_NUM_THREADS). The header bench_train.h must be on the include path. */
#include "timing.h"

#include "bench_train.h"
#include "nyx/runtime.h"

/* The step's buffers: the parameters, the optimizer state (and its step
 * counter), then x, labels, lr and loss, in that order. */
enum {
  kBuffers = BENCH_TRAIN_TRAIN_NUM_BUFFERS,
  kParams = BENCH_TRAIN_NUM_PARAMS,
  kX = kBuffers - 4,
  kLabels = kBuffers - 3,
  kLr = kBuffers - 2,
  kLoss = kBuffers - 1,
};

_Static_assert(kX >= kParams, "a training step has params, x, labels, lr "
                              "and loss buffers");
_Static_assert(BENCH_TRAIN_TRAIN_INPUT_LABELS_DTYPE == NYX_I64,
               "the benchmark's losses take int64 class labels");

struct train_ctx {
  void *buffers[kBuffers];
  void *arena;
  char *x, *labels; /* all batches */
  size_t x_bytes, label_bytes;
  long batches, next;
};

static void step_once(void *p) {
  struct train_ctx *c = p;
  long b = c->next++ % c->batches;
  c->buffers[kX] = c->x + (size_t)b * c->x_bytes;
  c->buffers[kLabels] = c->labels + (size_t)b * c->label_bytes;
  int status = bench_train_train_step_packed(c->buffers, c->arena);
  if (status != NYX_OK)
    die("bench_train_train_step_packed failed", nyx_status_string(status));
}

int main(int argc, char **argv) {
  struct bench_args a = {argc, argv};
  static const uint64_t bytes[kBuffers] = BENCH_TRAIN_TRAIN_BUFFER_BYTES;
  if (bytes[kX] != BENCH_TRAIN_TRAIN_INPUT_X_BYTES ||
      bytes[kLabels] != BENCH_TRAIN_TRAIN_INPUT_LABELS_BYTES ||
      bytes[kLr] != BENCH_TRAIN_TRAIN_INPUT_LR_BYTES ||
      bytes[kLoss] != BENCH_TRAIN_TRAIN_OUTPUT_LOSS_BYTES || bytes[kLr] != 4)
    die("the step's last buffers are not x, labels, lr and loss", NULL);

  struct train_ctx c = {0};
  c.batches = arg_int(a, "batches", 1);
  if (c.batches < 1)
    die("expected batches >= 1", NULL);
  c.x_bytes = bytes[kX];
  c.label_bytes = bytes[kLabels];
  c.x = read_exact(arg_str(a, "x", ""), c.x_bytes * (size_t)c.batches);
  c.labels =
      read_exact(arg_str(a, "labels", ""), c.label_bytes * (size_t)c.batches);
  for (int i = 0; i < kBuffers; ++i)
    if (i != kX && i != kLabels)
      c.buffers[i] = bench_alloc(bytes[i]); /* zero-filled: the state */
  *(float *)c.buffers[kLr] = (float)arg_double(a, "lr", 0.01);
  c.arena = bench_alloc(BENCH_TRAIN_TRAIN_ARENA_BYTES);

  int status = bench_train_init_params_packed(arg_int(a, "seed", 1), c.buffers);
  if (status != NYX_OK)
    die("bench_train_init_params_packed failed", nyx_status_string(status));
  const char *params_out = arg_str(a, "params_out", NULL);
  if (params_out) {
    FILE *f = fopen(params_out, "wb");
    for (int i = 0; f && i < kParams; ++i)
      if (fwrite(c.buffers[i], 1, bytes[i], f) != bytes[i])
        die("cannot write", params_out);
    if (!f || fclose(f) != 0)
      die("cannot write", params_out);
  }

  for (long i = 0; i < c.batches; ++i) {
    step_once(&c);
    printf("loss step=%ld value=%.9g\n", i, *(float *)c.buffers[kLoss]);
  }
  fflush(stdout);
  if (arg_int(a, "time", 1))
    bench_time(a, step_once, &c, nyx_get_num_threads());
  return 0;
}

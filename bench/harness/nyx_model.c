/* Times one Nyx model compiled with `nyxc --name bench_model` and linked
 * into this program (docs/abi.md: bench_model_run_packed).
 *
 *   nyx_model inputs=A.bin,B.bin in_bytes=N,M out_bytes=K [dump=OUT.bin]
 *             [warmup= min_reps= max_reps= budget=]
 *
 * Inputs are raw little-endian files of exactly the given sizes; the one
 * output is written to `dump` after the first run so bench/run can check it
 * against a peer. The thread count is the runtime's (NYX_NUM_THREADS). */
#include "timing.h"

#include "nyx/runtime.h"

int bench_model_run_packed(void **buffers, void *arena);
extern const uint64_t bench_model_arena_bytes;

struct model_ctx {
  void *buffers[kMaxBuffers];
  void *arena;
};

static void run_once(void *p) {
  struct model_ctx *c = p;
  int status = bench_model_run_packed(c->buffers, c->arena);
  if (status != NYX_OK)
    die("bench_model_run_packed failed", nyx_status_string(status));
}

int main(int argc, char **argv) {
  struct bench_args a = {argc, argv};
  char *inputs = strdup(arg_str(a, "inputs", ""));
  char *in_bytes = strdup(arg_str(a, "in_bytes", ""));
  char *out_bytes = strdup(arg_str(a, "out_bytes", ""));
  char *paths[kMaxBuffers], *sizes[kMaxBuffers], *outs[kMaxBuffers];
  int n_in = split_list(inputs, paths);
  if (split_list(in_bytes, sizes) != n_in)
    die("expected one size in in_bytes for each file in inputs", NULL);
  int n_out = split_list(out_bytes, outs);
  if (n_out != 1)
    die("expected exactly one output size in out_bytes", NULL);
  if (n_in + n_out > kMaxBuffers)
    die("too many buffers", NULL);

  struct model_ctx c;
  for (int i = 0; i < n_in; ++i)
    c.buffers[i] = read_exact(paths[i], strtoull(sizes[i], NULL, 10));
  size_t result_bytes = strtoull(outs[0], NULL, 10);
  c.buffers[n_in] = bench_alloc(result_bytes);
  c.arena = bench_alloc(bench_model_arena_bytes);

  run_once(&c);
  const char *dump = arg_str(a, "dump", NULL);
  if (dump)
    write_all(dump, c.buffers[n_in], result_bytes);
  bench_time(a, run_once, &c, nyx_get_num_threads());
  return 0;
}

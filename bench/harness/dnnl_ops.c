/* Times oneDNN primitives (the C API of oneDNN 2.x) on plain row-major data
 * (f32, or s8 for an int8 matmul), the layout Nyx reads and writes:
 *
 *   dnnl_ops op=matmul m= n= k= a=A.bin b=B.bin [dtype=f32|s8]
 *   dnnl_ops op=conv n= c= h= w= oc= kernel= stride= pad= x=X.bin wt=W.bin
 *   dnnl_ops op=softmax rows= cols= x=X.bin
 *   dnnl_ops op=layer_norm rows= cols= x=X.bin scale=S.bin shift=B.bin
 *   ... [dump=OUT.bin] [timing args]
 *
 * matmul multiplies two plain inputs (like sgemm, nothing prepacked):
 * f32 [M, K] x [K, N] -> f32, or with dtype=s8, s8 x s8 -> s32, exact as
 * Nyx's i8 matmul.
 * conv takes NCHW input and gives NCHW output, as Nyx does: the primitive
 * either works on NCHW directly or on its own blocked layout with the
 * input and output reorders inside the timed region, whichever a pilot
 * run finds faster; the weights (constants of a model) are reordered once,
 * outside it. softmax is over the last axis; layer_norm normalizes rows
 * with a scale and a shift (epsilon 1e-5). Threads: OpenMP
 * (OMP_NUM_THREADS), which Debian's libdnnl uses. */
#include "timing.h"

#include <dnnl.h>
#include <omp.h>

#define CHECK(call)                                                            \
  do {                                                                         \
    dnnl_status_t s_ = (call);                                                 \
    if (s_ != dnnl_success) {                                                  \
      fprintf(stderr, "dnnl_ops: %s failed with status %d\n", #call, (int)s_); \
      exit(2);                                                                 \
    }                                                                          \
  } while (0)

enum { kMaxArgs = 8, kMaxSteps = 3 };

struct step {
  dnnl_primitive_t primitive;
  int nargs;
  dnnl_exec_arg_t args[kMaxArgs];
};

/* A sequence of primitives run back to back, then waited for. */
struct pipeline {
  dnnl_stream_t stream;
  int nsteps;
  struct step steps[kMaxSteps];
  dnnl_memory_t result; /* plain output */
  char impl[256];
};

static dnnl_engine_t engine;

static void run_once(void *p) {
  struct pipeline *pl = p;
  for (int i = 0; i < pl->nsteps; ++i)
    CHECK(dnnl_primitive_execute(pl->steps[i].primitive, pl->stream,
                                 pl->steps[i].nargs, pl->steps[i].args));
  CHECK(dnnl_stream_wait(pl->stream));
}

static dnnl_memory_desc_t plain_md(int ndims, const dnnl_dims_t dims) {
  static const dnnl_format_tag_t tags[] = {dnnl_format_tag_undef, dnnl_a,
                                           dnnl_ab, dnnl_abc, dnnl_abcd};
  dnnl_memory_desc_t md;
  CHECK(dnnl_memory_desc_init_by_tag(&md, ndims, dims, dnnl_f32, tags[ndims]));
  return md;
}

static dnnl_memory_t memory(const dnnl_memory_desc_t *md, void *handle) {
  dnnl_memory_t m;
  CHECK(dnnl_memory_create(&m, md, engine,
                           handle ? handle : DNNL_MEMORY_ALLOCATE));
  return m;
}

static void add_arg(struct step *s, int arg, dnnl_memory_t m) {
  if (s->nargs == kMaxArgs)
    die("too many primitive arguments", NULL);
  s->args[s->nargs].arg = arg;
  s->args[s->nargs].memory = m;
  s->nargs++;
}

/* Creates the primitive of `pd` in `s` and gives it memory for every
 * argument it asks for that the caller did not (scratchpad, statistics). */
static void make_step(struct step *s, const_dnnl_primitive_desc_t pd) {
  static const int extra[] = {DNNL_ARG_SCRATCHPAD, DNNL_ARG_WORKSPACE,
                              DNNL_ARG_MEAN, DNNL_ARG_VARIANCE};
  CHECK(dnnl_primitive_create(&s->primitive, pd));
  for (size_t i = 0; i < sizeof extra / sizeof extra[0]; ++i) {
    const dnnl_memory_desc_t *md =
        dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, extra[i]);
    if (md && md->ndims > 0)
      add_arg(s, extra[i], memory(md, NULL));
  }
}

static void impl_name(const_dnnl_primitive_desc_t pd, char *out, size_t n) {
  const char *name = "?";
  dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name);
  snprintf(out, n, "%s", name);
}

/* A reorder step from `from` to a new memory of `to_md`; returns it. */
static dnnl_memory_t reorder(struct step *s, dnnl_memory_t from,
                             const dnnl_memory_desc_t *from_md,
                             const dnnl_memory_desc_t *to_md) {
  dnnl_primitive_desc_t pd;
  CHECK(dnnl_reorder_primitive_desc_create(&pd, from_md, engine, to_md, engine,
                                           NULL));
  dnnl_memory_t to = memory(to_md, NULL);
  make_step(s, pd);
  add_arg(s, DNNL_ARG_FROM, from);
  add_arg(s, DNNL_ARG_TO, to);
  dnnl_primitive_desc_destroy(pd);
  return to;
}

static dnnl_primitive_desc_t create_pd(const_dnnl_op_desc_t desc) {
  dnnl_primitive_desc_t pd;
  CHECK(dnnl_primitive_desc_create(&pd, desc, NULL, engine, NULL));
  return pd;
}

static void matmul(struct bench_args a, struct pipeline *pl) {
  long m = arg_int(a, "m", 0), n = arg_int(a, "n", 0), k = arg_int(a, "k", 0);
  const char *dtype = arg_str(a, "dtype", "f32");
  int s8 = strcmp(dtype, "s8") == 0;
  if (!s8 && strcmp(dtype, "f32") != 0)
    die("expected dtype=f32 or dtype=s8; found", dtype);
  dnnl_data_type_t in_type = s8 ? dnnl_s8 : dnnl_f32;
  dnnl_data_type_t out_type = s8 ? dnnl_s32 : dnnl_f32;
  size_t in_size = s8 ? 1 : sizeof(float);
  dnnl_dims_t ad = {m, k}, bd = {k, n}, cd = {m, n};
  dnnl_memory_desc_t amd, bmd, cmd;
  CHECK(dnnl_memory_desc_init_by_tag(&amd, 2, ad, in_type, dnnl_ab));
  CHECK(dnnl_memory_desc_init_by_tag(&bmd, 2, bd, in_type, dnnl_ab));
  CHECK(dnnl_memory_desc_init_by_tag(&cmd, 2, cd, out_type, dnnl_ab));
  dnnl_matmul_desc_t desc;
  CHECK(dnnl_matmul_desc_init(&desc, &amd, &bmd, NULL, &cmd));
  dnnl_primitive_desc_t pd = create_pd(&desc);
  struct step *s = &pl->steps[pl->nsteps++];
  make_step(s, pd);
  add_arg(s, DNNL_ARG_SRC,
          memory(&amd, read_exact(arg_str(a, "a", ""), in_size * m * k)));
  add_arg(s, DNNL_ARG_WEIGHTS,
          memory(&bmd, read_exact(arg_str(a, "b", ""), in_size * k * n)));
  pl->result = memory(&cmd, NULL);
  add_arg(s, DNNL_ARG_DST, pl->result);
  impl_name(pd, pl->impl, sizeof pl->impl);
  dnnl_primitive_desc_destroy(pd);
}

/* One way to run the convolution: with `blocked`, the primitive picks its
 * layouts and the pipeline reorders the input and output around it. */
static void conv(struct bench_args a, struct pipeline *pl, int blocked,
                 void *x_data, void *w_data) {
  long n = arg_int(a, "n", 1), c = arg_int(a, "c", 0), h = arg_int(a, "h", 0),
       w = arg_int(a, "w", 0), oc = arg_int(a, "oc", 0),
       kernel = arg_int(a, "kernel", 1), stride = arg_int(a, "stride", 1),
       pad = arg_int(a, "pad", 0);
  long oh = (h + 2 * pad - kernel) / stride + 1;
  long ow = (w + 2 * pad - kernel) / stride + 1;
  dnnl_dims_t xd = {n, c, h, w}, wd = {oc, c, kernel, kernel},
              yd = {n, oc, oh, ow};
  dnnl_dims_t strides = {stride, stride}, pads = {pad, pad};
  dnnl_memory_desc_t x_plain = plain_md(4, xd), w_plain = plain_md(4, wd),
                     y_plain = plain_md(4, yd), x_any, w_any, y_any;
  CHECK(dnnl_memory_desc_init_by_tag(
      &x_any, 4, xd, dnnl_f32, blocked ? dnnl_format_tag_any : dnnl_nchw));
  CHECK(dnnl_memory_desc_init_by_tag(&w_any, 4, wd, dnnl_f32,
                                     dnnl_format_tag_any));
  CHECK(dnnl_memory_desc_init_by_tag(
      &y_any, 4, yd, dnnl_f32, blocked ? dnnl_format_tag_any : dnnl_nchw));
  dnnl_convolution_desc_t desc;
  CHECK(dnnl_convolution_forward_desc_init(
      &desc, dnnl_forward_inference, dnnl_convolution_direct, &x_any, &w_any,
      NULL, &y_any, strides, pads, pads));
  dnnl_primitive_desc_t pd = create_pd(&desc);
  const dnnl_memory_desc_t *x_md =
      dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
  const dnnl_memory_desc_t *w_md =
      dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
  const dnnl_memory_desc_t *y_md =
      dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);

  /* The weights once, outside the timed pipeline. */
  dnnl_memory_t weights = memory(&w_plain, w_data);
  if (!dnnl_memory_desc_equal(w_md, &w_plain)) {
    struct pipeline once = {0};
    once.stream = pl->stream;
    weights = reorder(&once.steps[once.nsteps++], weights, &w_plain, w_md);
    run_once(&once);
  }

  dnnl_memory_t x = memory(&x_plain, x_data);
  if (!dnnl_memory_desc_equal(x_md, &x_plain))
    x = reorder(&pl->steps[pl->nsteps++], x, &x_plain, x_md);
  struct step *s = &pl->steps[pl->nsteps++];
  make_step(s, pd);
  add_arg(s, DNNL_ARG_SRC, x);
  add_arg(s, DNNL_ARG_WEIGHTS, weights);
  dnnl_memory_t y = memory(y_md, NULL);
  add_arg(s, DNNL_ARG_DST, y);
  if (!dnnl_memory_desc_equal(y_md, &y_plain))
    y = reorder(&pl->steps[pl->nsteps++], y, y_md, &y_plain);
  pl->result = y;
  char impl[200];
  impl_name(pd, impl, sizeof impl);
  snprintf(pl->impl, sizeof pl->impl, "%s%s", impl,
           pl->nsteps > 1 ? "+reorders" : "");
  dnnl_primitive_desc_destroy(pd);
}

static void softmax(struct bench_args a, struct pipeline *pl) {
  long rows = arg_int(a, "rows", 0), cols = arg_int(a, "cols", 0);
  dnnl_dims_t d = {rows, cols};
  dnnl_memory_desc_t md = plain_md(2, d);
  dnnl_softmax_v2_desc_t desc;
  CHECK(dnnl_softmax_v2_forward_desc_init(&desc, dnnl_forward_inference,
                                          dnnl_softmax_accurate, &md, &md, 1));
  dnnl_primitive_desc_t pd = create_pd(&desc);
  struct step *s = &pl->steps[pl->nsteps++];
  make_step(s, pd);
  add_arg(s, DNNL_ARG_SRC,
          memory(&md,
                 read_exact(arg_str(a, "x", ""), sizeof(float) * rows * cols)));
  pl->result = memory(&md, NULL);
  add_arg(s, DNNL_ARG_DST, pl->result);
  impl_name(pd, pl->impl, sizeof pl->impl);
  dnnl_primitive_desc_destroy(pd);
}

static void layer_norm(struct bench_args a, struct pipeline *pl) {
  long rows = arg_int(a, "rows", 0), cols = arg_int(a, "cols", 0);
  dnnl_dims_t d = {rows, cols}, vd = {cols};
  dnnl_memory_desc_t md = plain_md(2, d), vmd = plain_md(1, vd);
  dnnl_layer_normalization_desc_t desc;
  CHECK(dnnl_layer_normalization_forward_desc_init(
      &desc, dnnl_forward_inference, &md, NULL, 1e-5f,
      dnnl_use_scale | dnnl_use_shift));
  dnnl_primitive_desc_t pd = create_pd(&desc);
  struct step *s = &pl->steps[pl->nsteps++];
  make_step(s, pd);
  add_arg(s, DNNL_ARG_SRC,
          memory(&md,
                 read_exact(arg_str(a, "x", ""), sizeof(float) * rows * cols)));
  add_arg(
      s, DNNL_ARG_SCALE,
      memory(&vmd, read_exact(arg_str(a, "scale", ""), sizeof(float) * cols)));
  add_arg(
      s, DNNL_ARG_SHIFT,
      memory(&vmd, read_exact(arg_str(a, "shift", ""), sizeof(float) * cols)));
  pl->result = memory(&md, NULL);
  add_arg(s, DNNL_ARG_DST, pl->result);
  impl_name(pd, pl->impl, sizeof pl->impl);
  dnnl_primitive_desc_destroy(pd);
}

/* The median of a few runs, to choose between two ways of running. */
static double pilot(struct pipeline *pl) {
  double t[5];
  run_once(pl);
  for (int i = 0; i < 5; ++i) {
    double t0 = now_seconds();
    run_once(pl);
    t[i] = now_seconds() - t0;
  }
  qsort(t, 5, sizeof(double), compare_doubles);
  return t[2];
}

int main(int argc, char **argv) {
  struct bench_args a = {argc, argv};
  CHECK(dnnl_engine_create(&engine, dnnl_cpu, 0));
  dnnl_stream_t stream;
  CHECK(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags));
  struct pipeline pl = {0}, alt = {0};
  pl.stream = alt.stream = stream;
  const char *op = arg_str(a, "op", "");
  if (strcmp(op, "matmul") == 0) {
    matmul(a, &pl);
  } else if (strcmp(op, "conv") == 0) {
    long n = arg_int(a, "n", 1), c = arg_int(a, "c", 0), h = arg_int(a, "h", 0),
         w = arg_int(a, "w", 0), oc = arg_int(a, "oc", 0),
         k = arg_int(a, "kernel", 1);
    void *x = read_exact(arg_str(a, "x", ""), sizeof(float) * n * c * h * w);
    void *wt = read_exact(arg_str(a, "wt", ""), sizeof(float) * oc * c * k * k);
    conv(a, &pl, 0, x, wt);
    conv(a, &alt, 1, x, wt);
    if (pilot(&alt) < pilot(&pl))
      pl = alt;
  } else if (strcmp(op, "softmax") == 0) {
    softmax(a, &pl);
  } else if (strcmp(op, "layer_norm") == 0) {
    layer_norm(a, &pl);
  } else {
    die("expected op=matmul, conv, softmax or layer_norm; found", op);
  }

  run_once(&pl);
  const char *dump = arg_str(a, "dump", NULL);
  if (dump) {
    void *data;
    const dnnl_memory_desc_t *md;
    CHECK(dnnl_memory_get_data_handle(pl.result, &data));
    CHECK(dnnl_memory_get_memory_desc(pl.result, &md));
    write_all(dump, data, dnnl_memory_desc_get_size(md));
  }
  printf("impl=%s\n", pl.impl);
  bench_time(a, run_once, &pl, omp_get_max_threads());
  return 0;
}

/* Watching a model run kernel by kernel.
 *
 * A model compiled with `nyxc --instrument` calls nyx_instrument right after
 * each kernel of <name>_run, once for every value the kernel computed. What
 * happens then is chosen at run time:
 *   - a hook set with nyx_set_instrument_hook is called;
 *   - otherwise, with a dump directory (nyx_instrument_dump_to, else the
 *     environment variable NYX_DUMP_DIR), the value is written to
 *     DIR/<seq>-<kernel>-<value>.npy;
 *   - otherwise nothing happens.
 * Models compiled without --instrument never call into this file. */
#ifndef NYX_INSTRUMENT_H
#define NYX_INSTRUMENT_H

#include "nyx/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Called with one computed value: the kernel's name ("matmul_3"), the IR
 * value's name without '%' ("hidden"), its elements (dense, row-major, valid
 * only during the call), dtype, rank and shape (NULL when rank is 0).
 * Returning anything but NYX_OK stops the run, which returns that status. */
typedef int (*nyx_instrument_hook)(void *user, const char *kernel_name,
                                   const char *value_name, const void *data,
                                   nyx_dtype dtype, int rank,
                                   const int64_t *shape);

/* Sets the hook every instrumented model in the process calls, and the
 * `user` pointer passed to it; NULL removes it. */
void nyx_set_instrument_hook(nyx_instrument_hook hook, void *user);

/* Dumps values to `dir` (created with its parents if missing), numbering
 * the files from 0 again; NULL goes back to NYX_DUMP_DIR. Returns NYX_OK, or
 * NYX_ERR_IO when the directory cannot be created. */
int nyx_instrument_dump_to(const char *dir);

/* What generated code calls after a kernel. Returns the hook's status, or
 * for a dump NYX_OK or the error of writing the file (NYX_ERR_IO, ...),
 * which makes <name>_run return it. */
int nyx_instrument(const char *kernel_name, const char *value_name,
                   const void *data, int dtype, int rank, const int64_t *shape);

#ifdef __cplusplus
}
#endif

#endif /* NYX_INSTRUMENT_H */

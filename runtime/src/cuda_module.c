/* Loading the code embedded in a compiled object and launching its kernels. */
#define _POSIX_C_SOURCE 200809L

#include "cuda_driver.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Without an opt-in the driver refuses launches that ask for more dynamic
 * shared memory than this. */
enum { kDefaultSharedLimit = 48 * 1024 };

typedef struct kernel {
  CUfunction function;
  char *name;
  /* The largest dynamic shared memory the kernel was allowed so far; only
   * grows, under module_lock, read without it. */
  uint32_t shared_limit;
} kernel;

struct nyx_cuda_module {
  CUmodule module;
  int num_kernels;
  kernel kernels[];
};

/* Loads are rare (once per model and process), so one lock serves every
 * slot, and also orders raising a kernel's shared memory limit. */
static pthread_mutex_t module_lock = PTHREAD_MUTEX_INITIALIZER;

/* What a failed load means for the caller. */
static int load_status(CUresult result) {
  switch (result) {
  case CUDA_ERROR_OUT_OF_MEMORY:
    return NYX_ERR_OUT_OF_MEMORY;
  case CUDA_ERROR_NO_BINARY_FOR_GPU:
  case CUDA_ERROR_JIT_COMPILER_NOT_FOUND:
  case CUDA_ERROR_UNSUPPORTED_PTX_VERSION:
    return NYX_ERR_UNSUPPORTED;
  default:
    return NYX_ERR_FORMAT;
  }
}

/* The cubin when the driver takes it, else the PTX through the JIT. */
static int load_code(CUmodule *module, const char *ptx, const void *cubin,
                     size_t cubin_bytes) {
  CUresult cubin_result = CUDA_SUCCESS;
  if (cubin && cubin_bytes > 0) {
    cubin_result = nyx_cu.cuModuleLoadData(module, cubin);
    if (cubin_result == CUDA_SUCCESS)
      return NYX_OK;
  }
  char cubin_note[160] = "";
  if (cubin_result != CUDA_SUCCESS)
    snprintf(cubin_note, sizeof cubin_note,
             "the driver rejected the cubin (%s)%s",
             nyx_cuda_error_text(cubin_result), ptx ? " and " : "");
  if (!ptx)
    return nyx_fail(load_status(cubin_result),
                    "cannot load the CUDA module: %s and there is no PTX",
                    cubin_note);

  char log[8192] = "";
  int options[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void *values[] = {log, (void *)(uintptr_t)sizeof log};
  CUresult result = nyx_cu.cuModuleLoadDataEx(
      module, ptx, sizeof options / sizeof options[0], options, values);
  if (result == CUDA_SUCCESS)
    return NYX_OK;
  log[sizeof log - 1] = '\0';
  size_t length = strlen(log);
  while (length > 0 && (log[length - 1] == '\n' || log[length - 1] == ' '))
    log[--length] = '\0';
  return nyx_fail(load_status(result),
                  "cannot load the CUDA module: %sthe driver could not compile "
                  "the PTX (%s)%s%s",
                  cubin_note, nyx_cuda_error_text(result),
                  length > 0 ? ": " : "", log);
}

static void free_module(nyx_cuda_module *m) {
  for (int i = 0; i < m->num_kernels; ++i)
    free(m->kernels[i].name);
  free(m);
}

/* Resolves every kernel of a loaded module into a new nyx_cuda_module. */
static int find_kernels(CUmodule module, const char *const *names, int count,
                        nyx_cuda_module **out) {
  nyx_cuda_module *m =
      calloc(1, sizeof *m + (size_t)count * sizeof m->kernels[0]);
  if (!m)
    return nyx_fail(NYX_ERR_OUT_OF_MEMORY,
                    "out of host memory for a CUDA module of %d kernels",
                    count);
  m->module = module;
  for (int i = 0; i < count; ++i) {
    kernel *k = &m->kernels[i];
    k->shared_limit = kDefaultSharedLimit;
    CUresult result =
        nyx_cu.cuModuleGetFunction(&k->function, module, names[i]);
    if (result != CUDA_SUCCESS) {
      free_module(m);
      if (result == CUDA_ERROR_NOT_FOUND)
        return nyx_fail(NYX_ERR_NOT_FOUND,
                        "the CUDA module has no kernel named '%s'", names[i]);
      return nyx_fail(nyx_cuda_status(result, NYX_ERR_INVALID_ARGUMENT),
                      "cuModuleGetFunction('%s') failed: %s", names[i],
                      nyx_cuda_error_text(result));
    }
    k->name = strdup(names[i]);
    m->num_kernels = i + 1; /* what free_module has to free */
    if (!k->name) {
      free_module(m);
      return nyx_fail(NYX_ERR_OUT_OF_MEMORY,
                      "out of host memory for a CUDA module's kernel names");
    }
  }
  m->num_kernels = count;
  *out = m;
  return NYX_OK;
}

int nyx_cuda_module_get(nyx_cuda_module **slot, const char *ptx,
                        const void *cubin, size_t cubin_bytes,
                        const char *const *kernel_names, int num_kernels) {
  int status = nyx_cuda_init();
  if (status != NYX_OK)
    return status;
  if (!slot)
    return nyx_fail(NYX_ERR_INVALID_ARGUMENT,
                    "nyx_cuda_module_get: the slot pointer is NULL");
  /* Published with release order once complete, so a thread that sees the
   * module here sees its kernels. */
  if (__atomic_load_n(slot, __ATOMIC_ACQUIRE))
    return NYX_OK;
  if (!ptx && !(cubin && cubin_bytes > 0))
    return nyx_fail(NYX_ERR_INVALID_ARGUMENT,
                    "nyx_cuda_module_get: there is neither PTX nor a cubin");
  if (num_kernels < 0 || (num_kernels > 0 && !kernel_names))
    return nyx_fail(NYX_ERR_INVALID_ARGUMENT,
                    "nyx_cuda_module_get: %d kernel names at %p", num_kernels,
                    (const void *)kernel_names);
  for (int i = 0; i < num_kernels; ++i)
    if (!kernel_names[i])
      return nyx_fail(NYX_ERR_INVALID_ARGUMENT,
                      "nyx_cuda_module_get: kernel name %d is NULL", i);

  pthread_mutex_lock(&module_lock);
  if (!*slot) {
    CUmodule module = NULL;
    status = load_code(&module, ptx, cubin, cubin_bytes);
    nyx_cuda_module *loaded = NULL;
    if (status == NYX_OK) {
      status = find_kernels(module, kernel_names, num_kernels, &loaded);
      if (status != NYX_OK)
        nyx_cu.cuModuleUnload(module);
    }
    if (status == NYX_OK)
      __atomic_store_n(slot, loaded, __ATOMIC_RELEASE);
  }
  pthread_mutex_unlock(&module_lock);
  return status;
}

/* Lets `k` use `bytes` of dynamic shared memory, once per larger size. */
static int allow_shared(kernel *k, uint32_t bytes) {
  if (bytes <= __atomic_load_n(&k->shared_limit, __ATOMIC_ACQUIRE))
    return NYX_OK;
  int status = NYX_OK;
  pthread_mutex_lock(&module_lock);
  if (bytes > k->shared_limit) {
    CUresult result = nyx_cu.cuFuncSetAttribute(
        k->function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
        (int)bytes);
    if (result == CUDA_SUCCESS)
      __atomic_store_n(&k->shared_limit, bytes, __ATOMIC_RELEASE);
    else
      status = nyx_fail(NYX_ERR_INVALID_ARGUMENT,
                        "kernel '%s' cannot have %u bytes of dynamic shared "
                        "memory: %s",
                        k->name, bytes, nyx_cuda_error_text(result));
  }
  pthread_mutex_unlock(&module_lock);
  return status;
}

int nyx_cuda_launch(nyx_cuda_module *module, int index, uint32_t grid_x,
                    uint32_t block_x, uint32_t shared_bytes, void **args,
                    nyx_stream *stream) {
  int status = nyx_cuda_init();
  if (status != NYX_OK)
    return status;
  if (!module)
    return nyx_fail(NYX_ERR_INVALID_ARGUMENT,
                    "nyx_cuda_launch: the module is NULL");
  if (index < 0 || index >= module->num_kernels)
    return nyx_fail(NYX_ERR_INVALID_ARGUMENT,
                    "nyx_cuda_launch: kernel index %d, but the module has %d "
                    "kernels",
                    index, module->num_kernels);
  kernel *k = &module->kernels[index];
  status = allow_shared(k, shared_bytes);
  if (status != NYX_OK)
    return status;
  CUresult result =
      nyx_cu.cuLaunchKernel(k->function, grid_x, 1, 1, block_x, 1, 1,
                            shared_bytes, (CUstream)stream, args, NULL);
  if (result != CUDA_SUCCESS)
    return nyx_fail(nyx_cuda_status(result, NYX_ERR_INVALID_ARGUMENT),
                    "launching kernel '%s' (%u blocks of %u threads, %u bytes "
                    "of dynamic shared memory) failed: %s",
                    k->name, grid_x, block_x, shared_bytes,
                    nyx_cuda_error_text(result));
  return NYX_OK;
}

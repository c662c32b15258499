/* The part of the CUDA driver API the runtime uses, reached through function
 * pointers that cuda_driver.c fills from libcuda.so.1 with dlsym. The types
 * and constants are declared here, with the values of the toolkit's cuda.h,
 * so the runtime builds without the toolkit and never links the driver. */
#ifndef NYX_CUDA_DRIVER_H
#define NYX_CUDA_DRIVER_H

#include "internal.h"
#include "nyx/cuda.h"

#include <stddef.h>

typedef int CUresult;
typedef int CUdevice;
typedef struct CUctx_st *CUcontext;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;
typedef struct CUstream_st *CUstream;
typedef unsigned long long CUdeviceptr;

enum {
  CUDA_SUCCESS = 0,
  CUDA_ERROR_OUT_OF_MEMORY = 2,
  CUDA_ERROR_NO_BINARY_FOR_GPU = 209,
  CUDA_ERROR_JIT_COMPILER_NOT_FOUND = 221,
  CUDA_ERROR_UNSUPPORTED_PTX_VERSION = 222,
  CUDA_ERROR_NOT_FOUND = 500,
};

enum {
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75,
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76,
};

enum { CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8 };

/* CUjit_option values. */
enum {
  CU_JIT_ERROR_LOG_BUFFER = 5,
  CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6,
};

enum { CU_STREAM_DEFAULT = 0 };

/* One pointer per driver entry point, named after the symbol without its
 * version suffix. */
typedef struct nyx_cuda_driver {
  CUresult (*cuInit)(unsigned int flags);
  CUresult (*cuGetErrorString)(CUresult error, const char **text);
  CUresult (*cuDeviceGetCount)(int *count);
  CUresult (*cuDeviceGet)(CUdevice *device, int ordinal);
  CUresult (*cuDeviceGetName)(char *name, int len, CUdevice device);
  CUresult (*cuDeviceGetAttribute)(int *value, int attribute, CUdevice device);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *context, CUdevice device);
  CUresult (*cuCtxSetCurrent)(CUcontext context);
  CUresult (*cuCtxSynchronize)(void);
  CUresult (*cuStreamCreate)(CUstream *stream, unsigned int flags);
  CUresult (*cuStreamSynchronize)(CUstream stream);
  CUresult (*cuStreamDestroy)(CUstream stream);
  CUresult (*cuMemAlloc)(CUdeviceptr *ptr, size_t bytes);
  CUresult (*cuMemFree)(CUdeviceptr ptr);
  CUresult (*cuMemcpyHtoDAsync)(CUdeviceptr dst, const void *src, size_t bytes,
                                CUstream stream);
  CUresult (*cuMemcpyDtoHAsync)(void *dst, CUdeviceptr src, size_t bytes,
                                CUstream stream);
  CUresult (*cuMemcpyDtoDAsync)(CUdeviceptr dst, CUdeviceptr src, size_t bytes,
                                CUstream stream);
  CUresult (*cuMemsetD8Async)(CUdeviceptr dst, unsigned char value,
                              size_t bytes, CUstream stream);
  CUresult (*cuModuleLoadData)(CUmodule *module, const void *image);
  CUresult (*cuModuleLoadDataEx)(CUmodule *module, const void *image,
                                 unsigned int num_options, int *options,
                                 void **option_values);
  CUresult (*cuModuleUnload)(CUmodule module);
  CUresult (*cuModuleGetFunction)(CUfunction *function, CUmodule module,
                                  const char *name);
  CUresult (*cuLaunchKernel)(CUfunction function, unsigned int grid_x,
                             unsigned int grid_y, unsigned int grid_z,
                             unsigned int block_x, unsigned int block_y,
                             unsigned int block_z, unsigned int shared_bytes,
                             CUstream stream, void **params, void **extra);
  CUresult (*cuFuncSetAttribute)(CUfunction function, int attribute, int value);
} nyx_cuda_driver;

/* The loaded driver; valid once nyx_cuda_init has returned NYX_OK. */
extern nyx_cuda_driver nyx_cu;

/* The driver's text for `error`, or "CUDA error <n>" for a code it does not
 * know. The pointer stays valid until the next call on the same thread. */
const char *nyx_cuda_error_text(CUresult error);

/* NYX_ERR_OUT_OF_MEMORY for CUDA_ERROR_OUT_OF_MEMORY, else `otherwise`. */
int nyx_cuda_status(CUresult error, int otherwise);

/* cuMemAlloc outside the cache (for blocks kept for the process), with the
 * cache's retry: when the driver is out of memory the cached blocks are
 * returned to it and the allocation tried once more. Fails with
 * NYX_ERR_OUT_OF_MEMORY. Call after nyx_cuda_init. */
int nyx_cuda_alloc_uncached(CUdeviceptr *ptr, size_t bytes);

#endif /* NYX_CUDA_DRIVER_H */

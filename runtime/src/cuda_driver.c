/* Opening the NVIDIA driver and choosing the device: the one-time
 * initialization every CUDA entry point goes through. */
#define _POSIX_C_SOURCE 200809L

#include "cuda_driver.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

nyx_cuda_driver nyx_cu;

/* The outcome of the first nyx_cuda_init, replayed to every later caller. */
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_status;
static char init_message[512];
static CUcontext primary_context;
static char device_name[256];
static int device_major, device_minor;

/* The driver keeps the current context per thread; remembering that this
 * thread already made ours current keeps nyx_cuda_init a few loads. */
static _Thread_local bool context_current_here;

const char *nyx_cuda_error_text(CUresult error) {
  static _Thread_local char unknown[32];
  const char *text = NULL;
  if (nyx_cu.cuGetErrorString &&
      nyx_cu.cuGetErrorString(error, &text) == CUDA_SUCCESS && text)
    return text;
  snprintf(unknown, sizeof unknown, "CUDA error %d", error);
  return unknown;
}

int nyx_cuda_status(CUresult error, int otherwise) {
  return error == CUDA_ERROR_OUT_OF_MEMORY ? NYX_ERR_OUT_OF_MEMORY : otherwise;
}

static void init_failed(const char *fmt, ...) NYX_PRINTF(1, 2);
static void init_failed(const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  vsnprintf(init_message, sizeof init_message, fmt, args);
  va_end(args);
  init_status = NYX_ERR_NO_GPU;
}

#define NYX_CU_SYMBOL(field, symbol)                                           \
  { symbol, (void **)&loaded.field }

/* Fills nyx_cu from the driver library, or records why it cannot. */
static bool load_driver(void) {
  const char *path = getenv("NYX_CUDA_DRIVER");
  if (!path || !*path)
    path = "libcuda.so.1";
  void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *why = dlerror();
    if (!why || strstr(why, "No such file"))
      init_failed("%s not found (no NVIDIA driver)", path);
    else
      init_failed("%s could not be loaded: %s", path, why);
    return false;
  }
  nyx_cuda_driver loaded;
  struct {
    const char *symbol;
    void **slot;
  } const symbols[] = {
      NYX_CU_SYMBOL(cuInit, "cuInit"),
      NYX_CU_SYMBOL(cuGetErrorString, "cuGetErrorString"),
      NYX_CU_SYMBOL(cuDeviceGetCount, "cuDeviceGetCount"),
      NYX_CU_SYMBOL(cuDeviceGet, "cuDeviceGet"),
      NYX_CU_SYMBOL(cuDeviceGetName, "cuDeviceGetName"),
      NYX_CU_SYMBOL(cuDeviceGetAttribute, "cuDeviceGetAttribute"),
      NYX_CU_SYMBOL(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain"),
      NYX_CU_SYMBOL(cuCtxSetCurrent, "cuCtxSetCurrent"),
      NYX_CU_SYMBOL(cuCtxSynchronize, "cuCtxSynchronize"),
      NYX_CU_SYMBOL(cuStreamCreate, "cuStreamCreate"),
      NYX_CU_SYMBOL(cuStreamSynchronize, "cuStreamSynchronize"),
      NYX_CU_SYMBOL(cuStreamDestroy, "cuStreamDestroy_v2"),
      NYX_CU_SYMBOL(cuMemAlloc, "cuMemAlloc_v2"),
      NYX_CU_SYMBOL(cuMemFree, "cuMemFree_v2"),
      NYX_CU_SYMBOL(cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2"),
      NYX_CU_SYMBOL(cuMemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2"),
      NYX_CU_SYMBOL(cuMemcpyDtoDAsync, "cuMemcpyDtoDAsync_v2"),
      NYX_CU_SYMBOL(cuMemsetD8Async, "cuMemsetD8Async"),
      NYX_CU_SYMBOL(cuModuleLoadData, "cuModuleLoadData"),
      NYX_CU_SYMBOL(cuModuleLoadDataEx, "cuModuleLoadDataEx"),
      NYX_CU_SYMBOL(cuModuleUnload, "cuModuleUnload"),
      NYX_CU_SYMBOL(cuModuleGetFunction, "cuModuleGetFunction"),
      NYX_CU_SYMBOL(cuLaunchKernel, "cuLaunchKernel"),
      NYX_CU_SYMBOL(cuFuncSetAttribute, "cuFuncSetAttribute"),
  };
  for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; ++i) {
    *symbols[i].slot = dlsym(handle, symbols[i].symbol);
    if (!*symbols[i].slot) {
      init_failed("%s has no %s (not an NVIDIA driver, or one too old)", path,
                  symbols[i].symbol);
      dlclose(handle);
      return false;
    }
  }
  nyx_cu = loaded;
  return true;
}

#undef NYX_CU_SYMBOL

/* The device ordinal from NYX_CUDA_DEVICE (default 0), or -1 after recording
 * why the variable is unusable. */
static int selected_ordinal(int device_count) {
  const char *env = getenv("NYX_CUDA_DEVICE");
  if (!env || !*env)
    return 0;
  char *end = NULL;
  long ordinal = strtol(env, &end, 10);
  if (*end != '\0' || ordinal < 0 || ordinal > INT_MAX) {
    init_failed("NYX_CUDA_DEVICE='%s' is not a device ordinal", env);
    return -1;
  }
  if (ordinal >= device_count) {
    init_failed("NYX_CUDA_DEVICE=%ld but the driver sees %d CUDA device%s",
                ordinal, device_count, device_count == 1 ? "" : "s");
    return -1;
  }
  return (int)ordinal;
}

#define NYX_CU_TRY(name, call)                                                 \
  do {                                                                         \
    CUresult nyx_cu_result = (call);                                           \
    if (nyx_cu_result != CUDA_SUCCESS) {                                       \
      init_failed("%s failed: %s", name, nyx_cuda_error_text(nyx_cu_result));  \
      return;                                                                  \
    }                                                                          \
  } while (0)

static void initialize(void) {
  init_failed("CUDA initialization did not finish");
  if (!load_driver())
    return;
  CUresult result = nyx_cu.cuInit(0);
  if (result != CUDA_SUCCESS) {
    init_failed("cuInit failed: %s", nyx_cuda_error_text(result));
    return;
  }
  int count = 0;
  NYX_CU_TRY("cuDeviceGetCount", nyx_cu.cuDeviceGetCount(&count));
  if (count <= 0) {
    init_failed("no CUDA device");
    return;
  }
  int ordinal = selected_ordinal(count);
  if (ordinal < 0)
    return;
  CUdevice device;
  NYX_CU_TRY("cuDeviceGet", nyx_cu.cuDeviceGet(&device, ordinal));
  NYX_CU_TRY(
      "cuDeviceGetName",
      nyx_cu.cuDeviceGetName(device_name, (int)sizeof device_name, device));
  NYX_CU_TRY(
      "cuDeviceGetAttribute",
      nyx_cu.cuDeviceGetAttribute(
          &device_major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device));
  NYX_CU_TRY(
      "cuDeviceGetAttribute",
      nyx_cu.cuDeviceGetAttribute(
          &device_minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device));
  NYX_CU_TRY("cuDevicePrimaryCtxRetain",
             nyx_cu.cuDevicePrimaryCtxRetain(&primary_context, device));
  init_status = NYX_OK;
}

#undef NYX_CU_TRY

int nyx_cuda_init(void) {
  pthread_once(&init_once, initialize);
  if (init_status != NYX_OK)
    return nyx_fail(init_status, "%s", init_message);
  if (!context_current_here) {
    CUresult result = nyx_cu.cuCtxSetCurrent(primary_context);
    if (result != CUDA_SUCCESS)
      return nyx_fail(NYX_ERR_NO_GPU, "cuCtxSetCurrent failed: %s",
                      nyx_cuda_error_text(result));
    context_current_here = true;
  }
  return NYX_OK;
}

int nyx_cuda_device_info(char *name, size_t name_size, int *major, int *minor) {
  int status = nyx_cuda_init();
  bool ok = status == NYX_OK;
  if (name && name_size > 0)
    snprintf(name, name_size, "%s", ok ? device_name : "");
  if (major)
    *major = ok ? device_major : 0;
  if (minor)
    *minor = ok ? device_minor : 0;
  return status;
}

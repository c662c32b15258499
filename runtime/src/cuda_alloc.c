/* The caching device allocator behind nyx_cuda_malloc.
 *
 * cuMemAlloc and cuMemFree are slow and cuMemFree synchronizes the device,
 * so a model that allocates its intermediates on every run keeps the blocks
 * it frees and hands them out again. Sizes are rounded to classes so a block
 * fits every request of its class; a freed block waits in its class's bin.
 * One mutex guards everything: allocations are few per kernel launch, and
 * holding it across cuMemAlloc lets an allocation that ran out of memory
 * empty the bins and retry without racing another thread's frees. */
#include "cuda_driver.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

enum {
  kSmallGranule = 512,
  kSmallLimit = 1 << 20, /* requests below this use small classes */
  kSmallClasses = kSmallLimit / kSmallGranule,
  kLargeGranule = 2 << 20,
};

typedef struct block {
  CUdeviceptr ptr;
  size_t size; /* the size class, which is what was allocated */
  struct block *next;
} block;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* Free blocks: one stack per small class, and one list for the large ones,
 * searched for an exact class, since a program holds few blocks that big. */
static block *small_bins[kSmallClasses];
static block *large_bin;
static size_t cached_count;

/* Blocks handed out, by address: a hash table with chaining through
 * block.next, so nyx_cuda_free finds a block's class and rejects foreign
 * pointers. */
static block **live;
static size_t live_buckets; /* a power of two, or 0 before first use */
static size_t live_count;

/* The size class of a request, or 0 when rounding overflows. */
static size_t size_class(size_t bytes) {
  size_t granule = bytes < kSmallLimit ? kSmallGranule : kLargeGranule;
  if (bytes > SIZE_MAX - (granule - 1))
    return 0;
  return (bytes + granule - 1) / granule * granule;
}

static block **bin_of(size_t size) {
  return size <= kSmallLimit ? &small_bins[size / kSmallGranule - 1]
                             : &large_bin;
}

static block *take_cached(size_t size) {
  block **link = bin_of(size);
  while (*link && (*link)->size != size)
    link = &(*link)->next;
  block *found = *link;
  if (found) {
    *link = found->next;
    --cached_count;
  }
  return found;
}

static size_t bucket_of(CUdeviceptr ptr, size_t buckets) {
  /* Device addresses are 256-byte aligned: drop those bits, then mix. */
  return (size_t)(((ptr >> 8) * 0x9E3779B97F4A7C15ull) >> 24) & (buckets - 1);
}

/* Doubles the table when it gets crowded. Failing to grow only makes the
 * chains longer, so it is not an error. */
static void grow_live_table(void) {
  size_t buckets = live_buckets ? live_buckets * 2 : 64;
  block **table = calloc(buckets, sizeof *table);
  if (!table)
    return;
  for (size_t i = 0; i < live_buckets; ++i) {
    while (live[i]) {
      block *b = live[i];
      live[i] = b->next;
      size_t slot = bucket_of(b->ptr, buckets);
      b->next = table[slot];
      table[slot] = b;
    }
  }
  free(live);
  live = table;
  live_buckets = buckets;
}

/* Records b as handed out; false only when there is no table at all. */
static bool insert_live(block *b) {
  if (live_count >= live_buckets)
    grow_live_table();
  if (!live_buckets)
    return false;
  size_t slot = bucket_of(b->ptr, live_buckets);
  b->next = live[slot];
  live[slot] = b;
  ++live_count;
  return true;
}

static block *remove_live(CUdeviceptr ptr) {
  if (!live_buckets)
    return NULL;
  block **link = &live[bucket_of(ptr, live_buckets)];
  while (*link && (*link)->ptr != ptr)
    link = &(*link)->next;
  block *found = *link;
  if (found) {
    *link = found->next;
    --live_count;
  }
  return found;
}

static void free_list(block **list) {
  while (*list) {
    block *b = *list;
    *list = b->next;
    /* A failure here means the context is already broken; the memory goes
     * with it, and there is nobody to report to. */
    nyx_cu.cuMemFree(b->ptr);
    free(b);
  }
}

static void release_cached_locked(void) {
  for (size_t i = 0; i < kSmallClasses; ++i)
    free_list(&small_bins[i]);
  free_list(&large_bin);
  cached_count = 0;
}

/* cuMemAlloc, retried once with the cache emptied. Call with the lock held. */
static int device_alloc_locked(CUdeviceptr *ptr, size_t bytes) {
  CUresult result = nyx_cu.cuMemAlloc(ptr, bytes);
  if (result != CUDA_SUCCESS && cached_count > 0) {
    release_cached_locked();
    result = nyx_cu.cuMemAlloc(ptr, bytes);
  }
  if (result != CUDA_SUCCESS)
    return nyx_fail(NYX_ERR_OUT_OF_MEMORY, "cuMemAlloc of %zu bytes failed: %s",
                    bytes, nyx_cuda_error_text(result));
  return NYX_OK;
}

int nyx_cuda_alloc_uncached(CUdeviceptr *ptr, size_t bytes) {
  pthread_mutex_lock(&lock);
  int status = device_alloc_locked(ptr, bytes);
  pthread_mutex_unlock(&lock);
  return status;
}

int nyx_cuda_malloc(void **device_ptr, size_t bytes) {
  if (device_ptr)
    *device_ptr = NULL;
  int status = nyx_cuda_init();
  if (status != NYX_OK)
    return status;
  if (!device_ptr)
    return nyx_fail(NYX_ERR_INVALID_ARGUMENT,
                    "nyx_cuda_malloc: the output pointer is NULL");
  if (bytes == 0)
    return NYX_OK;
  size_t size = size_class(bytes);
  if (size == 0)
    return nyx_fail(NYX_ERR_OUT_OF_MEMORY,
                    "nyx_cuda_malloc: %zu bytes is more than a device holds",
                    bytes);

  pthread_mutex_lock(&lock);
  block *b = take_cached(size);
  if (!b) {
    b = malloc(sizeof *b);
    if (!b) {
      pthread_mutex_unlock(&lock);
      return nyx_fail(NYX_ERR_OUT_OF_MEMORY,
                      "nyx_cuda_malloc: out of host memory for bookkeeping");
    }
    b->size = size;
    status = device_alloc_locked(&b->ptr, size);
    if (status != NYX_OK) {
      free(b);
      pthread_mutex_unlock(&lock);
      return status;
    }
  }
  if (!insert_live(b)) {
    /* Not tracked means nyx_cuda_free could not take it back. */
    b->next = *bin_of(size);
    *bin_of(size) = b;
    ++cached_count;
    pthread_mutex_unlock(&lock);
    return nyx_fail(NYX_ERR_OUT_OF_MEMORY,
                    "nyx_cuda_malloc: out of host memory for bookkeeping");
  }
  pthread_mutex_unlock(&lock);
  *device_ptr = (void *)(uintptr_t)b->ptr;
  return NYX_OK;
}

int nyx_cuda_free(void *device_ptr) {
  if (!device_ptr)
    return NYX_OK;
  int status = nyx_cuda_init();
  if (status != NYX_OK)
    return status;
  pthread_mutex_lock(&lock);
  block *b = remove_live((CUdeviceptr)(uintptr_t)device_ptr);
  if (b) {
    block **bin = bin_of(b->size);
    b->next = *bin;
    *bin = b;
    ++cached_count;
  }
  pthread_mutex_unlock(&lock);
  if (!b)
    return nyx_fail(NYX_ERR_INVALID_ARGUMENT,
                    "nyx_cuda_free: %p is not a block from nyx_cuda_malloc "
                    "(or it was freed already)",
                    device_ptr);
  return NYX_OK;
}

void nyx_cuda_release_cached(void) {
  pthread_mutex_lock(&lock);
  /* Blocks in the cache mean the driver was initialized; this only makes its
   * context current on this thread for cuMemFree. */
  if (cached_count > 0 && nyx_cuda_init() == NYX_OK)
    release_cached_locked();
  pthread_mutex_unlock(&lock);
}

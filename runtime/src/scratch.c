/* Per-thread kernel scratch: one block per thread, grown on demand and
 * freed by a thread-specific-data destructor when the thread exits. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "nyx/runtime.h"

typedef struct scratch_block {
  void *data;
  int64_t size;
} scratch_block;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void free_block(void *p) {
  scratch_block *block = p;
  free(block->data);
  free(block);
}

static void make_key(void) {
  if (pthread_key_create(&scratch_key, free_block) != 0) {
    fprintf(stderr, "nyx: cannot create the kernel scratch key\n");
    abort();
  }
}

static void out_of_memory(int64_t bytes) {
  fprintf(stderr, "nyx: out of memory for %lld bytes of kernel scratch\n",
          (long long)bytes);
  abort();
}

void *nyx_scratch(int64_t bytes) {
  pthread_once(&scratch_once, make_key);
  scratch_block *block = pthread_getspecific(scratch_key);
  if (!block) {
    block = calloc(1, sizeof *block);
    if (!block || pthread_setspecific(scratch_key, block) != 0)
      out_of_memory(bytes);
  }
  if (bytes < 1)
    bytes = 1;
  if (block->size < bytes) {
    /* Grow geometrically so a kernel sequence of rising sizes reallocates
     * a few times only. */
    int64_t size = block->size * 2 > bytes ? block->size * 2 : bytes;
    size = (size + 63) / 64 * 64;
    free(block->data);
    block->data = aligned_alloc(64, (size_t)size);
    block->size = block->data ? size : 0;
    if (!block->data)
      out_of_memory(bytes);
  }
  return block->data;
}

#include "nyx/runtime.h"

/* SplitMix64's finalizer: a bijection that mixes every input bit into
 * every output bit, good enough to turn a counter into independent draws. */
static uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

void nyx_fill_uniform(float *dst, int64_t n, float lo, float hi, uint64_t seed,
                      uint64_t stream) {
  if (!dst)
    return;
  uint64_t key = mix64(seed ^ mix64(stream + 0x9e3779b97f4a7c15ull));
  for (int64_t i = 0; i < n; ++i) {
    if (lo == hi) {
      dst[i] = lo;
      continue;
    }
    /* 24 random bits: a float in [0, 1) with every value exact. */
    uint64_t bits = mix64(key + (uint64_t)i * 0x9e3779b97f4a7c15ull) >> 40;
    float u = (float)bits * (1.0f / 16777216.0f);
    dst[i] = lo + (hi - lo) * u;
  }
}

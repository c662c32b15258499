/* The persistent thread pool behind nyx_parallel_for.
 *
 * One job runs at a time: `dispatch_lock` serializes callers, so concurrent
 * user threads take turns. A job splits [0, n) into `chunks` contiguous
 * ranges; workers and the caller claim chunk indices from an atomic counter,
 * so a late or descheduled worker simply claims fewer chunks. */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE

#include "internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

enum { kMaxThreads = 1024 };

typedef void (*nyx_body_fn)(void *ctx, int64_t begin, int64_t end);

/* Held for the whole of a dispatch and while the pool is resized. */
static pthread_mutex_t dispatch_lock = PTHREAD_MUTEX_INITIALIZER;

/* Guards every field below. */
static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work_posted = PTHREAD_COND_INITIALIZER;
static pthread_cond_t worker_left = PTHREAD_COND_INITIALIZER;

static int requested_threads; /* 0: use the default */
static pthread_t *workers;
static int worker_count; /* pool threads, not counting the caller */
static bool stopping;
static bool atexit_registered;

/* The current job. Workers join it only while `job_open`, and the caller
 * closes it only once no worker is inside, so a worker never sees the fields
 * of one job mixed with those of the next. */
static uint64_t job_generation;
/* job_generation as last posted, read without the lock by workers that
 * spin for the next job before they sleep. */
static atomic_ullong posted_generation;
static bool job_open;
/* Changed under the lock; read without it by a caller that spins for the
 * workers to finish. */
static atomic_int job_participants;
static nyx_body_fn job_body;
static void *job_ctx;
static int64_t job_n;
static int64_t job_chunks;
static atomic_llong job_next_chunk;

/* True on pool threads and on a caller while its job runs, so a nested
 * nyx_parallel_for runs inline instead of waiting on the busy pool. */
static _Thread_local bool inside_parallel_region;

static int default_thread_count(void) {
  const char *env = getenv("NYX_NUM_THREADS");
  if (env && *env) {
    char *end = NULL;
    long value = strtol(env, &end, 10);
    if (*end == '\0' && value > 0)
      return value > kMaxThreads ? kMaxThreads : (int)value;
  }
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  if (cpus < 1)
    return 1;
  return cpus > kMaxThreads ? kMaxThreads : (int)cpus;
}

static void run_chunks(nyx_body_fn body, void *ctx, int64_t n, int64_t chunks) {
  for (;;) {
    int64_t chunk = atomic_fetch_add(&job_next_chunk, 1);
    if (chunk >= chunks)
      return;
    /* Chunk sizes differ by at most one, larger ones first. */
    int64_t base = n / chunks, extra = n % chunks;
    int64_t begin = chunk * base + (chunk < extra ? chunk : extra);
    int64_t end = begin + base + (chunk < extra ? 1 : 0);
    body(ctx, begin, end);
  }
}

/* Waits up to kSpinNanoseconds for a job after `seen` to be posted, without
 * sleeping: a model runs its kernels back to back, and waking a sleeping
 * thread takes longer than many of them. */
enum { kSpinNanoseconds = 200000 };

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Spins until done() or for kSpinNanoseconds, whichever comes first. */
static void spin_until(bool (*done)(uint64_t), uint64_t arg) {
  int64_t deadline = now_ns() + kSpinNanoseconds;
  for (unsigned i = 1;; ++i) {
    if (done(arg))
      return;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
    if (i % 64 == 0 && now_ns() > deadline)
      return;
  }
}

static bool job_posted_after(uint64_t seen) {
  return atomic_load_explicit(&posted_generation, memory_order_relaxed) != seen;
}

static bool workers_left(uint64_t unused) {
  (void)unused;
  return atomic_load_explicit(&job_participants, memory_order_relaxed) == 0;
}

static void *worker_main(void *arg) {
  (void)arg;
  inside_parallel_region = true;
  uint64_t seen_generation = 0;
  pthread_mutex_lock(&state_lock);
  for (;;) {
    if (stopping)
      break;
    if (!(job_open && job_generation != seen_generation)) {
      /* Nothing to join. A job that closed before this worker woke counts
       * as seen: the worker spins for the next one rather than sleeping
       * again, or else, once asleep, it would wake too late for every
       * short job after it. */
      seen_generation = job_generation;
      pthread_mutex_unlock(&state_lock);
      spin_until(job_posted_after, seen_generation);
      pthread_mutex_lock(&state_lock);
      if (!stopping && !(job_open && job_generation != seen_generation))
        pthread_cond_wait(&work_posted, &state_lock);
      continue;
    }
    seen_generation = job_generation;
    nyx_body_fn body = job_body;
    void *ctx = job_ctx;
    int64_t n = job_n, chunks = job_chunks;
    ++job_participants;
    pthread_mutex_unlock(&state_lock);
    run_chunks(body, ctx, n, chunks);
    pthread_mutex_lock(&state_lock);
    if (--job_participants == 0)
      pthread_cond_broadcast(&worker_left);
  }
  pthread_mutex_unlock(&state_lock);
  return NULL;
}

/* Requires dispatch_lock. */
static void stop_workers(void) {
  pthread_mutex_lock(&state_lock);
  stopping = true;
  pthread_cond_broadcast(&work_posted);
  pthread_mutex_unlock(&state_lock);
  for (int i = 0; i < worker_count; ++i)
    pthread_join(workers[i], NULL);
  free(workers);
  workers = NULL;
  worker_count = 0;
  stopping = false;
}

static void shutdown_pool(void) {
  /* A thread still inside nyx_parallel_for at exit keeps the pool; its
   * threads die with the process and `workers` stays reachable. */
  if (pthread_mutex_trylock(&dispatch_lock) != 0)
    return;
  stop_workers();
  pthread_mutex_unlock(&dispatch_lock);
}

/* Requires dispatch_lock. Starts the pool threads for `threads` total threads
 * if they are not running; returns how many threads are actually available
 * (fewer if thread creation fails). */
static int ensure_workers(int threads) {
  if (worker_count == threads - 1)
    return threads;
  stop_workers();
  if (!atexit_registered) {
    atexit_registered = atexit(shutdown_pool) == 0;
  }
  if (threads <= 1)
    return 1;
  workers = malloc(sizeof(pthread_t) * (size_t)(threads - 1));
  if (!workers)
    return 1;
  while (worker_count < threads - 1) {
    if (pthread_create(&workers[worker_count], NULL, worker_main, NULL) != 0)
      break;
    ++worker_count;
  }
  return worker_count + 1;
}

int nyx_get_num_threads(void) {
  pthread_mutex_lock(&state_lock);
  int requested = requested_threads;
  pthread_mutex_unlock(&state_lock);
  return requested > 0 ? requested : default_thread_count();
}

void nyx_set_num_threads(int n) {
  if (n > kMaxThreads)
    n = kMaxThreads;
  /* Resizing happens lazily on the next dispatch, but taking dispatch_lock
   * here makes the new count apply only to calls that start afterwards. A
   * body running inside nyx_parallel_for cannot wait for dispatch_lock (its
   * own call holds it); its change applies from the next call on. */
  bool nested = inside_parallel_region;
  if (!nested)
    pthread_mutex_lock(&dispatch_lock);
  pthread_mutex_lock(&state_lock);
  requested_threads = n > 0 ? n : 0;
  pthread_mutex_unlock(&state_lock);
  if (!nested)
    pthread_mutex_unlock(&dispatch_lock);
}

void nyx_parallel_for(int64_t n, nyx_body_fn body, void *ctx) {
  if (n <= 0 || !body)
    return;
  if (n == 1 || inside_parallel_region) {
    body(ctx, 0, n);
    return;
  }
  int wanted = nyx_get_num_threads();
  if (wanted <= 1) {
    body(ctx, 0, n);
    return;
  }

  pthread_mutex_lock(&dispatch_lock);
  int threads = ensure_workers(wanted);
  int64_t chunks = n < threads ? n : threads;
  if (chunks <= 1) {
    pthread_mutex_unlock(&dispatch_lock);
    body(ctx, 0, n);
    return;
  }

  pthread_mutex_lock(&state_lock);
  job_body = body;
  job_ctx = ctx;
  job_n = n;
  job_chunks = chunks;
  atomic_store(&job_next_chunk, 0);
  ++job_generation;
  atomic_store(&posted_generation, job_generation);
  job_open = true;
  pthread_cond_broadcast(&work_posted);
  pthread_mutex_unlock(&state_lock);

  inside_parallel_region = true;
  run_chunks(body, ctx, n, chunks);
  inside_parallel_region = false;

  /* Every chunk is claimed; wait for the workers still running theirs,
   * spinning first: they finish about when the caller does, and waking a
   * caller that slept on the condition takes longer than a short kernel. */
  spin_until(workers_left, 0);
  pthread_mutex_lock(&state_lock);
  while (job_participants > 0)
    pthread_cond_wait(&worker_left, &state_lock);
  job_open = false;
  pthread_mutex_unlock(&state_lock);
  pthread_mutex_unlock(&dispatch_lock);
}

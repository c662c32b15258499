// The CUDA driver-API runtime: what every entry point does without a driver
// (checked on every machine, in child processes that point the runtime at
// libraries that are not a driver), and on a GPU the allocator, copies,
// module loading and launches. GPU tests skip with the runtime's reason when
// nyx_cuda_init fails.
#include "nyx/cuda.h"

#include <dlfcn.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

using ::testing::HasSubstr;

// ---- Without a driver ----------------------------------------------------

// Calls every entry point and returns a description of each one that did
// not fail with NYX_ERR_NO_GPU and `message`, or did not clear its outputs;
// empty when all behaved.
std::string everyEntryPointFailsWith(const std::string &message) {
  std::string failures;
  auto expectNoGpu = [&](const char *what, int status) {
    if (status != NYX_ERR_NO_GPU)
      failures += std::string(what) + " returned " + std::to_string(status) +
                  "; expected NYX_ERR_NO_GPU\n";
    else if (nyx_last_error() != message)
      failures += std::string(what) + " said '" + nyx_last_error() +
                  "'; expected '" + message + "'\n";
  };
  auto expectNull = [&](const char *what, const void *ptr) {
    if (ptr)
      failures += std::string(what) + " left its output non-NULL\n";
  };
  // Never reaches the driver: every call fails before using its pointers.
  float buffer[4] = {};
  void *sentinel = buffer;

  expectNoGpu("nyx_cuda_init", nyx_cuda_init());
  expectNoGpu("nyx_cuda_init (again)", nyx_cuda_init());

  char name[16] = "unchanged";
  int major = -1, minor = -1;
  expectNoGpu("nyx_cuda_device_info",
              nyx_cuda_device_info(name, sizeof name, &major, &minor));
  if (name[0] != '\0' || major != 0 || minor != 0)
    failures += "nyx_cuda_device_info left name '" + std::string(name) +
                "' and capability " + std::to_string(major) + "." +
                std::to_string(minor) + "; expected '' and 0.0\n";

  nyx_stream *stream = static_cast<nyx_stream *>(sentinel);
  expectNoGpu("nyx_stream_create", nyx_stream_create(&stream));
  expectNull("nyx_stream_create", stream);
  expectNoGpu("nyx_stream_synchronize", nyx_stream_synchronize(nullptr));
  expectNoGpu("nyx_stream_destroy",
              nyx_stream_destroy(static_cast<nyx_stream *>(sentinel)));

  void *device = sentinel;
  expectNoGpu("nyx_cuda_malloc", nyx_cuda_malloc(&device, 256));
  expectNull("nyx_cuda_malloc", device);
  device = sentinel;
  expectNoGpu("nyx_cuda_malloc of 0 bytes", nyx_cuda_malloc(&device, 0));
  expectNull("nyx_cuda_malloc of 0 bytes", device);
  expectNoGpu("nyx_cuda_free", nyx_cuda_free(sentinel));
  nyx_cuda_release_cached();

  expectNoGpu("nyx_cuda_copy_to_device",
              nyx_cuda_copy_to_device(sentinel, buffer, 4, nullptr));
  expectNoGpu("nyx_cuda_copy_to_host",
              nyx_cuda_copy_to_host(buffer, sentinel, 4, nullptr));
  expectNoGpu("nyx_cuda_copy_device",
              nyx_cuda_copy_device(sentinel, sentinel, 4, nullptr));
  expectNoGpu("nyx_cuda_memset", nyx_cuda_memset(sentinel, 0, 4, nullptr));

  const char *names[] = {"k"};
  nyx_cuda_module *module = nullptr;
  expectNoGpu(
      "nyx_cuda_module_get",
      nyx_cuda_module_get(&module, ".version 8.0", nullptr, 0, names, 1));
  expectNull("nyx_cuda_module_get", module);
  expectNoGpu("nyx_cuda_launch",
              nyx_cuda_launch(nullptr, 0, 1, 1, 0, nullptr, nullptr));

  void *weights = nullptr;
  expectNoGpu("nyx_cuda_upload_once",
              nyx_cuda_upload_once(&weights, buffer, sizeof buffer));
  expectNull("nyx_cuda_upload_once", weights);

  // The NULL no-ops succeed without a driver, as free(NULL) does.
  if (nyx_cuda_free(nullptr) != NYX_OK)
    failures += "nyx_cuda_free(NULL) failed\n";
  if (nyx_stream_destroy(nullptr) != NYX_OK)
    failures += "nyx_stream_destroy(NULL) failed\n";

  expectNoGpu("nyx_cuda_init (last)", nyx_cuda_init());
  return failures;
}

// The runtime reads NYX_CUDA_DRIVER once per process, so each choice of
// library is tried in a fresh copy of this test binary. `check` runs there
// with the variable set and returns what went wrong (empty: nothing).
void expectInFreshProcess(const char *variable, const std::string &value,
                          std::string (*check)(const std::string &value)) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        setenv(variable, value.c_str(), 1);
        std::string failures = check(value);
        std::fputs(failures.c_str(), stderr);
        std::_Exit(failures.empty() ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "")
      << variable << "=" << value;
}

TEST(CudaWithoutDriver, NonexistentDriverPathFailsEveryEntryPoint) {
  expectInFreshProcess("NYX_CUDA_DRIVER", "/nonexistent/libcuda.so.1",
                       [](const std::string &path) {
                         return everyEntryPointFailsWith(
                             path + " not found (no NVIDIA driver)");
                       });
}

TEST(CudaWithoutDriver, LibraryWithoutDriverSymbolsIsRejected) {
  expectInFreshProcess("NYX_CUDA_DRIVER", "libm.so.6",
                       [](const std::string &path) {
                         return everyEntryPointFailsWith(
                             path + " has no cuInit (not an NVIDIA driver, or "
                                    "one too old)");
                       });
}

TEST(CudaWithoutDriver, FileThatIsNotALibraryIsRejected) {
  expectInFreshProcess(
      "NYX_CUDA_DRIVER", NYX_SOURCE_DIR "/tests/unit/cuda_runtime_test.cc",
      [](const std::string &path) -> std::string {
        if (nyx_cuda_init() != NYX_ERR_NO_GPU)
          return "nyx_cuda_init did not fail\n";
        std::string message = nyx_last_error();
        if (message.rfind(path + " could not be loaded: ", 0) != 0)
          return "unexpected message '" + message + "'\n";
        return everyEntryPointFailsWith(message);
      });
}

// On a machine without a usable GPU, in this process and with the default
// driver name.
TEST(CudaWithoutDriver, InitSaysWhyAndEveryEntryPointAgrees) {
  if (nyx_cuda_init() == NYX_OK)
    GTEST_SKIP() << "a CUDA device is available";
  std::string message = nyx_last_error();
  const char *driver = std::getenv("NYX_CUDA_DRIVER");
  void *real_driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (real_driver)
    dlclose(real_driver);
  if ((!driver || !*driver) && !real_driver)
    EXPECT_EQ(message, "libcuda.so.1 not found (no NVIDIA driver)");
  else
    EXPECT_FALSE(message.empty());
  EXPECT_EQ(everyEntryPointFailsWith(message), "");
}

TEST(CudaInit, ConcurrentFirstCallsAgree) {
  constexpr int kThreads = 8;
  std::vector<int> statuses(kThreads);
  std::vector<std::string> messages(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&, i] {
      statuses[i] = nyx_cuda_init();
      messages[i] = statuses[i] == NYX_OK ? "" : nyx_last_error();
    });
  for (std::thread &t : threads)
    t.join();
  int status = nyx_cuda_init();
  std::string message = status == NYX_OK ? "" : nyx_last_error();
  EXPECT_TRUE(status == NYX_OK || status == NYX_ERR_NO_GPU) << status;
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_EQ(statuses[i], status) << "thread " << i;
    EXPECT_EQ(messages[i], message) << "thread " << i;
  }
}

// ---- On a GPU --------------------------------------------------------------

class CudaRuntimeTest : public ::testing::Test {
protected:
  void SetUp() override {
    if (nyx_cuda_init() != NYX_OK)
      GTEST_SKIP() << nyx_last_error();
  }
};

// The hand-written kernels below are PTX for sm_80.
#define SKIP_BELOW_SM80()                                                      \
  do {                                                                         \
    int major = 0, minor = 0;                                                  \
    ASSERT_EQ(nyx_cuda_device_info(nullptr, 0, &major, &minor), NYX_OK);       \
    if (major < 8)                                                             \
      GTEST_SKIP() << "the test kernels need sm_80; the device is sm_"         \
                   << major << minor;                                          \
  } while (0)

// data[i] += 1 and data[i] = i for i < n.
constexpr char kKernelsPtx[] = R"(
.version 8.0
.target sm_80
.address_size 64

.visible .entry add_one(.param .u64 data, .param .u32 n)
{
  .reg .pred %p<2>;
  .reg .b32 %r<6>;
  .reg .f32 %f<3>;
  .reg .b64 %rd<5>;

  ld.param.u64 %rd1, [data];
  ld.param.u32 %r1, [n];
  mov.u32 %r2, %ctaid.x;
  mov.u32 %r3, %ntid.x;
  mov.u32 %r4, %tid.x;
  mad.lo.s32 %r5, %r2, %r3, %r4;
  setp.ge.u32 %p1, %r5, %r1;
  @%p1 bra DONE;
  cvta.to.global.u64 %rd2, %rd1;
  mul.wide.u32 %rd3, %r5, 4;
  add.s64 %rd4, %rd2, %rd3;
  ld.global.f32 %f1, [%rd4];
  add.f32 %f2, %f1, 0f3F800000;
  st.global.f32 [%rd4], %f2;
DONE:
  ret;
}

.visible .entry store_index(.param .u64 data, .param .u32 n)
{
  .reg .pred %p<2>;
  .reg .b32 %r<6>;
  .reg .f32 %f<2>;
  .reg .b64 %rd<5>;

  ld.param.u64 %rd1, [data];
  ld.param.u32 %r1, [n];
  mov.u32 %r2, %ctaid.x;
  mov.u32 %r3, %ntid.x;
  mov.u32 %r4, %tid.x;
  mad.lo.s32 %r5, %r2, %r3, %r4;
  setp.ge.u32 %p1, %r5, %r1;
  @%p1 bra DONE;
  cvta.to.global.u64 %rd2, %rd1;
  mul.wide.u32 %rd3, %r5, 4;
  add.s64 %rd4, %rd2, %rd3;
  cvt.rn.f32.u32 %f1, %r5;
  st.global.f32 [%rd4], %f1;
DONE:
  ret;
}
)";
const char *const kKernelNames[] = {"add_one", "store_index"};
enum { kAddOne = 0, kStoreIndex = 1 };

// Copies `host` to a new device block; the test frees it.
void *deviceCopyOf(const std::vector<float> &host) {
  void *device = nullptr;
  EXPECT_EQ(nyx_cuda_malloc(&device, host.size() * sizeof(float)), NYX_OK)
      << nyx_last_error();
  EXPECT_EQ(nyx_cuda_copy_to_device(device, host.data(),
                                    host.size() * sizeof(float), nullptr),
            NYX_OK)
      << nyx_last_error();
  return device;
}

std::vector<float> hostCopyOf(const void *device, size_t count) {
  std::vector<float> host(count, -1.0f);
  EXPECT_EQ(nyx_cuda_copy_to_host(host.data(), device, count * sizeof(float),
                                  nullptr),
            NYX_OK)
      << nyx_last_error();
  EXPECT_EQ(nyx_stream_synchronize(nullptr), NYX_OK) << nyx_last_error();
  return host;
}

// Runs kernel `index` over n floats at `device` in blocks of 256 threads.
int launchOver(nyx_cuda_module *module, int index, void *device, uint32_t n,
               uint32_t shared_bytes = 0) {
  void *args[] = {&device, &n};
  return nyx_cuda_launch(module, index, (n + 255) / 256, 256, shared_bytes,
                         args, nullptr);
}

TEST_F(CudaRuntimeTest, DeviceInfoNamesTheDevice) {
  char name[256] = "";
  int major = 0, minor = -1;
  ASSERT_EQ(nyx_cuda_device_info(name, sizeof name, &major, &minor), NYX_OK);
  EXPECT_GT(std::strlen(name), 0u);
  EXPECT_GE(major, 3);
  EXPECT_GE(minor, 0);
  char tiny[4];
  ASSERT_EQ(nyx_cuda_device_info(tiny, sizeof tiny, nullptr, nullptr), NYX_OK);
  EXPECT_EQ(std::string(tiny), std::string(name).substr(0, 3));
}

// What a child process says when NYX_CUDA_DEVICE is `value`: the ordinal is
// only read once the driver found devices, so a machine with a driver but no
// usable device passes by failing earlier.
std::string badOrdinalIsRejected(const std::string &value,
                                 const std::string &expected_prefix) {
  if (nyx_cuda_init() != NYX_ERR_NO_GPU)
    return "NYX_CUDA_DEVICE=" + value + " was accepted\n";
  std::string message = nyx_last_error();
  if (message.rfind("cuInit failed", 0) == 0 || message == "no CUDA device")
    return "";
  if (message.rfind(expected_prefix, 0) != 0)
    return "unexpected message '" + message + "'\n";
  return everyEntryPointFailsWith(message);
}

// Not a CudaRuntimeTest: the fixture's nyx_cuda_init would run in the child
// process before the variable is set.
TEST(CudaDeviceSelection, BadOrdinalsAreRejected) {
  void *driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!driver)
    GTEST_SKIP() << "libcuda.so.1 not found (no NVIDIA driver)";
  dlclose(driver);
  expectInFreshProcess(
      "NYX_CUDA_DEVICE", "first", [](const std::string &value) {
        return badOrdinalIsRejected(value,
                                    "NYX_CUDA_DEVICE='first' is not a device "
                                    "ordinal");
      });
  expectInFreshProcess(
      "NYX_CUDA_DEVICE", "100000", [](const std::string &value) {
        return badOrdinalIsRejected(
            value, "NYX_CUDA_DEVICE=100000 but the driver sees ");
      });
}

TEST_F(CudaRuntimeTest, FreedBlockIsReusedForItsSizeClass) {
  void *small = nullptr, *again = nullptr, *other = nullptr;
  ASSERT_EQ(nyx_cuda_malloc(&small, 1000), NYX_OK) << nyx_last_error();
  ASSERT_NE(small, nullptr);
  ASSERT_EQ(nyx_cuda_free(small), NYX_OK);
  // 1000 and 1024 bytes round to the same 512-byte multiple.
  ASSERT_EQ(nyx_cuda_malloc(&again, 1024), NYX_OK) << nyx_last_error();
  EXPECT_EQ(again, small);
  // A block in use is not handed out twice.
  ASSERT_EQ(nyx_cuda_malloc(&other, 1024), NYX_OK) << nyx_last_error();
  EXPECT_NE(other, again);
  ASSERT_EQ(nyx_cuda_free(other), NYX_OK);
  ASSERT_EQ(nyx_cuda_free(again), NYX_OK);

  void *large = nullptr, *large_again = nullptr;
  ASSERT_EQ(nyx_cuda_malloc(&large, 3 << 20), NYX_OK) << nyx_last_error();
  ASSERT_EQ(nyx_cuda_free(large), NYX_OK);
  // 3 MiB and 4 MiB both round to 4 MiB.
  ASSERT_EQ(nyx_cuda_malloc(&large_again, 4 << 20), NYX_OK) << nyx_last_error();
  EXPECT_EQ(large_again, large);
  ASSERT_EQ(nyx_cuda_free(large_again), NYX_OK);
}

TEST_F(CudaRuntimeTest, DifferentSizeClassGetsAnotherBlock) {
  void *small = nullptr, *bigger = nullptr, *small_again = nullptr;
  ASSERT_EQ(nyx_cuda_malloc(&small, 512), NYX_OK) << nyx_last_error();
  ASSERT_EQ(nyx_cuda_free(small), NYX_OK);
  ASSERT_EQ(nyx_cuda_malloc(&bigger, 1536), NYX_OK) << nyx_last_error();
  EXPECT_NE(bigger, small); // small is still cached, so not the driver's
  ASSERT_EQ(nyx_cuda_malloc(&small_again, 512), NYX_OK) << nyx_last_error();
  EXPECT_EQ(small_again, small);
  EXPECT_EQ(nyx_cuda_free(bigger), NYX_OK);
  EXPECT_EQ(nyx_cuda_free(small_again), NYX_OK);
}

TEST_F(CudaRuntimeTest, ZeroBytesGivesNull) {
  void *device = &device;
  EXPECT_EQ(nyx_cuda_malloc(&device, 0), NYX_OK);
  EXPECT_EQ(device, nullptr);
  EXPECT_EQ(nyx_cuda_free(nullptr), NYX_OK);
}

TEST_F(CudaRuntimeTest, FreeRejectsForeignAndFreedPointers) {
  int host = 0;
  EXPECT_EQ(nyx_cuda_free(&host), NYX_ERR_INVALID_ARGUMENT);
  EXPECT_THAT(nyx_last_error(), HasSubstr("not a block from nyx_cuda_malloc"));
  void *device = nullptr;
  ASSERT_EQ(nyx_cuda_malloc(&device, 64), NYX_OK) << nyx_last_error();
  EXPECT_EQ(nyx_cuda_free(device), NYX_OK);
  EXPECT_EQ(nyx_cuda_free(device), NYX_ERR_INVALID_ARGUMENT);
}

TEST_F(CudaRuntimeTest, ImpossibleAllocationIsOutOfMemory) {
  void *device = &device;
  EXPECT_EQ(nyx_cuda_malloc(&device, SIZE_MAX), NYX_ERR_OUT_OF_MEMORY);
  EXPECT_EQ(device, nullptr);
  // Larger than any device: the driver refuses even after the cache is
  // emptied for the retry.
  void *cached = nullptr;
  ASSERT_EQ(nyx_cuda_malloc(&cached, 4096), NYX_OK) << nyx_last_error();
  ASSERT_EQ(nyx_cuda_free(cached), NYX_OK);
  device = &device;
  EXPECT_EQ(nyx_cuda_malloc(&device, size_t{1} << 50), NYX_ERR_OUT_OF_MEMORY);
  EXPECT_THAT(nyx_last_error(), HasSubstr("cuMemAlloc of"));
  EXPECT_EQ(device, nullptr);
  // Still usable after the cache was emptied for the retry.
  ASSERT_EQ(nyx_cuda_malloc(&device, 4096), NYX_OK) << nyx_last_error();
  EXPECT_EQ(nyx_cuda_free(device), NYX_OK);
}

TEST_F(CudaRuntimeTest, ReleasedCacheLeavesLiveBlocksIntact) {
  std::vector<float> values = {1.5f, -2.0f, 3.25f, 8.0f};
  void *live = deviceCopyOf(values);
  void *cached = nullptr;
  ASSERT_EQ(nyx_cuda_malloc(&cached, 8 << 20), NYX_OK) << nyx_last_error();
  ASSERT_EQ(nyx_cuda_free(cached), NYX_OK);
  nyx_cuda_release_cached();
  EXPECT_EQ(hostCopyOf(live, values.size()), values);
  EXPECT_EQ(nyx_cuda_free(live), NYX_OK);
}

TEST_F(CudaRuntimeTest, CopiesRoundTripOnAStream) {
  constexpr size_t kCount = 100000;
  std::vector<float> source(kCount);
  for (size_t i = 0; i < kCount; ++i)
    source[i] = static_cast<float>(i) * 0.5f - 7.0f;
  nyx_stream *stream = nullptr;
  ASSERT_EQ(nyx_stream_create(&stream), NYX_OK) << nyx_last_error();
  ASSERT_NE(stream, nullptr);
  void *first = nullptr, *second = nullptr;
  ASSERT_EQ(nyx_cuda_malloc(&first, kCount * sizeof(float)), NYX_OK);
  ASSERT_EQ(nyx_cuda_malloc(&second, kCount * sizeof(float)), NYX_OK);
  std::vector<float> back(kCount, 0.0f);
  EXPECT_EQ(nyx_cuda_copy_to_device(first, source.data(),
                                    kCount * sizeof(float), stream),
            NYX_OK);
  EXPECT_EQ(nyx_cuda_copy_device(second, first, kCount * sizeof(float), stream),
            NYX_OK);
  EXPECT_EQ(nyx_cuda_copy_to_host(back.data(), second, kCount * sizeof(float),
                                  stream),
            NYX_OK);
  ASSERT_EQ(nyx_stream_synchronize(stream), NYX_OK) << nyx_last_error();
  EXPECT_EQ(back, source);
  EXPECT_EQ(nyx_stream_destroy(stream), NYX_OK);
  EXPECT_EQ(nyx_cuda_free(first), NYX_OK);
  EXPECT_EQ(nyx_cuda_free(second), NYX_OK);
}

TEST_F(CudaRuntimeTest, MemsetFillsEveryByte) {
  constexpr size_t kBytes = 4099;
  void *device = nullptr;
  ASSERT_EQ(nyx_cuda_malloc(&device, kBytes), NYX_OK) << nyx_last_error();
  EXPECT_EQ(nyx_cuda_memset(device, 0x1AB, kBytes, nullptr), NYX_OK);
  std::vector<unsigned char> back(kBytes, 0);
  EXPECT_EQ(nyx_cuda_copy_to_host(back.data(), device, kBytes, nullptr),
            NYX_OK);
  ASSERT_EQ(nyx_stream_synchronize(nullptr), NYX_OK) << nyx_last_error();
  EXPECT_EQ(back, std::vector<unsigned char>(kBytes, 0xAB));
  EXPECT_EQ(nyx_cuda_free(device), NYX_OK);
}

TEST_F(CudaRuntimeTest, CopiesRejectNullPointersAndIgnoreEmptyRanges) {
  float host = 0;
  EXPECT_EQ(nyx_cuda_copy_to_device(nullptr, &host, 4, nullptr),
            NYX_ERR_INVALID_ARGUMENT);
  EXPECT_THAT(nyx_last_error(), HasSubstr("destination pointer is NULL"));
  EXPECT_EQ(nyx_cuda_copy_to_host(&host, nullptr, 4, nullptr),
            NYX_ERR_INVALID_ARGUMENT);
  EXPECT_THAT(nyx_last_error(), HasSubstr("source pointer is NULL"));
  EXPECT_EQ(nyx_cuda_memset(nullptr, 0, 4, nullptr), NYX_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(nyx_cuda_copy_device(nullptr, nullptr, 0, nullptr), NYX_OK);
}

TEST_F(CudaRuntimeTest, StreamsCreateSynchronizeAndDestroy) {
  nyx_stream *stream = nullptr;
  ASSERT_EQ(nyx_stream_create(&stream), NYX_OK) << nyx_last_error();
  EXPECT_EQ(nyx_stream_synchronize(stream), NYX_OK);
  EXPECT_EQ(nyx_stream_synchronize(nullptr), NYX_OK);
  EXPECT_EQ(nyx_stream_destroy(stream), NYX_OK);
  EXPECT_EQ(nyx_stream_destroy(nullptr), NYX_OK);
  EXPECT_EQ(nyx_stream_create(nullptr), NYX_ERR_INVALID_ARGUMENT);
}

TEST_F(CudaRuntimeTest, PtxModuleLoadsOnceAndItsKernelsRun) {
  SKIP_BELOW_SM80();
  // Slots are static, as in generated code: a module lives for the process.
  static nyx_cuda_module *module = nullptr;
  ASSERT_EQ(
      nyx_cuda_module_get(&module, kKernelsPtx, nullptr, 0, kKernelNames, 2),
      NYX_OK)
      << nyx_last_error();
  ASSERT_NE(module, nullptr);
  nyx_cuda_module *first = module;
  // A filled slot is returned as it is, whatever the code passed.
  ASSERT_EQ(
      nyx_cuda_module_get(&module, "not PTX", nullptr, 0, kKernelNames, 2),
      NYX_OK);
  EXPECT_EQ(module, first);

  constexpr uint32_t kCount = 1000; // not a multiple of the block size
  std::vector<float> values(kCount);
  for (uint32_t i = 0; i < kCount; ++i)
    values[i] = static_cast<float>(i) * 0.25f;
  void *device = deviceCopyOf(values);
  ASSERT_EQ(launchOver(module, kAddOne, device, kCount), NYX_OK)
      << nyx_last_error();
  std::vector<float> expected = values;
  for (float &v : expected)
    v += 1.0f;
  EXPECT_EQ(hostCopyOf(device, kCount), expected);

  ASSERT_EQ(launchOver(module, kStoreIndex, device, kCount), NYX_OK)
      << nyx_last_error();
  std::vector<float> indices(kCount);
  for (uint32_t i = 0; i < kCount; ++i)
    indices[i] = static_cast<float>(i);
  EXPECT_EQ(hostCopyOf(device, kCount), indices);
  EXPECT_EQ(nyx_cuda_free(device), NYX_OK);
}

TEST_F(CudaRuntimeTest, RejectedCubinFallsBackToPtx) {
  SKIP_BELOW_SM80();
  static const char kNotACubin[] = "this is not an ELF file";
  static nyx_cuda_module *module = nullptr;
  ASSERT_EQ(nyx_cuda_module_get(&module, kKernelsPtx, kNotACubin,
                                sizeof kNotACubin, kKernelNames, 2),
            NYX_OK)
      << nyx_last_error();
  std::vector<float> values = {1.0f, 2.0f, 3.0f};
  void *device = deviceCopyOf(values);
  ASSERT_EQ(launchOver(module, kAddOne, device, 3), NYX_OK) << nyx_last_error();
  EXPECT_EQ(hostCopyOf(device, 3), (std::vector<float>{2.0f, 3.0f, 4.0f}));
  EXPECT_EQ(nyx_cuda_free(device), NYX_OK);
}

TEST_F(CudaRuntimeTest, CubinFromPtxasLoadsWithoutPtx) {
  SKIP_BELOW_SM80();
  const char *ptxas = "/usr/local/cuda/bin/ptxas";
  if (access(ptxas, X_OK) != 0)
    GTEST_SKIP() << ptxas << " is not installed";
  int major = 0, minor = 0;
  ASSERT_EQ(nyx_cuda_device_info(nullptr, 0, &major, &minor), NYX_OK);
  std::string dir = ::testing::TempDir();
  std::string ptx_path = dir + "/cuda_runtime_test.ptx";
  std::string cubin_path = dir + "/cuda_runtime_test.cubin";
  std::ofstream(ptx_path) << kKernelsPtx;
  std::string command = std::string(ptxas) + " -arch=sm_" +
                        std::to_string(major) + std::to_string(minor) + " " +
                        ptx_path + " -o " + cubin_path;
  if (std::system(command.c_str()) != 0)
    GTEST_SKIP() << "ptxas cannot target sm_" << major << minor;
  std::ifstream file(cubin_path, std::ios::binary);
  std::string cubin((std::istreambuf_iterator<char>(file)),
                    std::istreambuf_iterator<char>());
  ASSERT_FALSE(cubin.empty());

  static nyx_cuda_module *module = nullptr;
  ASSERT_EQ(nyx_cuda_module_get(&module, nullptr, cubin.data(), cubin.size(),
                                kKernelNames, 2),
            NYX_OK)
      << nyx_last_error();
  std::vector<float> values = {-1.0f, 0.5f};
  void *device = deviceCopyOf(values);
  ASSERT_EQ(launchOver(module, kAddOne, device, 2), NYX_OK) << nyx_last_error();
  EXPECT_EQ(hostCopyOf(device, 2), (std::vector<float>{0.0f, 1.5f}));
  EXPECT_EQ(nyx_cuda_free(device), NYX_OK);
}

TEST_F(CudaRuntimeTest, PtxSyntaxErrorReportsTheJitLog) {
  SKIP_BELOW_SM80();
  const char *broken = R"(
.version 8.0
.target sm_80
.address_size 64

.visible .entry broken(.param .u64 data)
{
  .reg .b64 %rd<2>;
  ld.param.u64 %rd1, [data];
  frobnicate.u64 %rd1, %rd1;
  ret;
}
)";
  const char *names[] = {"broken"};
  nyx_cuda_module *module = nullptr;
  EXPECT_EQ(nyx_cuda_module_get(&module, broken, nullptr, 0, names, 1),
            NYX_ERR_FORMAT);
  EXPECT_THAT(nyx_last_error(), HasSubstr("could not compile the PTX"));
  // The instruction's name appears only in the JIT's log.
  EXPECT_THAT(nyx_last_error(), HasSubstr("frobnicate"));
  EXPECT_EQ(module, nullptr);
}

TEST_F(CudaRuntimeTest, MissingKernelIsNamed) {
  SKIP_BELOW_SM80();
  const char *names[] = {"add_one", "no_such_kernel"};
  nyx_cuda_module *module = nullptr;
  EXPECT_EQ(nyx_cuda_module_get(&module, kKernelsPtx, nullptr, 0, names, 2),
            NYX_ERR_NOT_FOUND);
  EXPECT_THAT(nyx_last_error(), HasSubstr("'no_such_kernel'"));
  EXPECT_EQ(module, nullptr);
}

TEST_F(CudaRuntimeTest, ModuleGetRejectsMissingCode) {
  nyx_cuda_module *module = nullptr;
  EXPECT_EQ(nyx_cuda_module_get(&module, nullptr, nullptr, 0, kKernelNames, 2),
            NYX_ERR_INVALID_ARGUMENT);
  EXPECT_THAT(nyx_last_error(), HasSubstr("neither PTX nor a cubin"));
}

TEST_F(CudaRuntimeTest, BadLaunchesNameTheKernel) {
  SKIP_BELOW_SM80();
  static nyx_cuda_module *module = nullptr;
  ASSERT_EQ(
      nyx_cuda_module_get(&module, kKernelsPtx, nullptr, 0, kKernelNames, 2),
      NYX_OK)
      << nyx_last_error();
  void *device = nullptr;
  uint32_t n = 1;
  ASSERT_EQ(nyx_cuda_malloc(&device, 4), NYX_OK);
  void *args[] = {&device, &n};
  EXPECT_EQ(nyx_cuda_launch(module, 2, 1, 1, 0, args, nullptr),
            NYX_ERR_INVALID_ARGUMENT);
  EXPECT_THAT(nyx_last_error(), HasSubstr("kernel index 2"));
  // No GPU runs 4096 threads in a block.
  EXPECT_EQ(nyx_cuda_launch(module, kAddOne, 1, 4096, 0, args, nullptr),
            NYX_ERR_INVALID_ARGUMENT);
  EXPECT_THAT(nyx_last_error(), HasSubstr("launching kernel 'add_one'"));
  EXPECT_EQ(nyx_cuda_free(device), NYX_OK);
}

TEST_F(CudaRuntimeTest, LaunchAboveDefaultSharedMemoryLimitRuns) {
  SKIP_BELOW_SM80(); // sm_80 allows up to 163 KiB per block
  static nyx_cuda_module *module = nullptr;
  ASSERT_EQ(
      nyx_cuda_module_get(&module, kKernelsPtx, nullptr, 0, kKernelNames, 2),
      NYX_OK)
      << nyx_last_error();
  std::vector<float> values = {4.0f, 5.0f};
  void *device = deviceCopyOf(values);
  for (uint32_t shared : {64u << 10, 96u << 10, 64u << 10})
    ASSERT_EQ(launchOver(module, kAddOne, device, 2, shared), NYX_OK)
        << shared << " bytes: " << nyx_last_error();
  EXPECT_EQ(hostCopyOf(device, 2), (std::vector<float>{7.0f, 8.0f}));
  EXPECT_EQ(nyx_cuda_free(device), NYX_OK);
}

TEST_F(CudaRuntimeTest, UploadOnceCopiesOnceAndReturnsTheSameBlock) {
  std::vector<float> weights = {0.5f, 1.5f, -3.0f, 42.0f, 7.0f};
  static void *slot = nullptr;
  ASSERT_EQ(nyx_cuda_upload_once(&slot, weights.data(),
                                 weights.size() * sizeof(float)),
            NYX_OK)
      << nyx_last_error();
  void *first = slot;
  ASSERT_NE(first, nullptr);
  std::vector<float> changed = {9.0f, 9.0f, 9.0f, 9.0f, 9.0f};
  ASSERT_EQ(nyx_cuda_upload_once(&slot, changed.data(),
                                 changed.size() * sizeof(float)),
            NYX_OK);
  EXPECT_EQ(slot, first);
  EXPECT_EQ(hostCopyOf(slot, weights.size()), weights);
  // Not the allocator's block.
  EXPECT_EQ(nyx_cuda_free(slot), NYX_ERR_INVALID_ARGUMENT);

  void *empty = &empty;
  EXPECT_EQ(nyx_cuda_upload_once(&empty, weights.data(), 0), NYX_OK);
  EXPECT_EQ(empty, nullptr);
}

TEST_F(CudaRuntimeTest, ConcurrentUploadsShareOneBlock) {
  std::vector<float> weights(1 << 16, 3.0f);
  static void *slot = nullptr;
  constexpr int kThreads = 8;
  std::vector<void *> seen(kThreads, nullptr);
  std::vector<int> statuses(kThreads, -1);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&, i] {
      statuses[i] = nyx_cuda_upload_once(&slot, weights.data(),
                                         weights.size() * sizeof(float));
      seen[i] = slot;
    });
  for (std::thread &t : threads)
    t.join();
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_EQ(statuses[i], NYX_OK) << "thread " << i;
    EXPECT_EQ(seen[i], slot) << "thread " << i;
  }
  EXPECT_EQ(hostCopyOf(slot, weights.size()), weights);
}

TEST_F(CudaRuntimeTest, ConcurrentAllocationsNeverShareABlock) {
  constexpr int kThreads = 4, kBlocks = 16, kRounds = 50;
  std::vector<std::string> failures(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int round = 0; round < kRounds && failures[t].empty(); ++round) {
        void *blocks[kBlocks] = {};
        for (int b = 0; b < kBlocks; ++b) {
          size_t bytes = 256 + 512 * static_cast<size_t>(b % 4);
          if (nyx_cuda_malloc(&blocks[b], bytes) != NYX_OK ||
              nyx_cuda_memset(blocks[b], t + 1, 256, nullptr) != NYX_OK)
            failures[t] = nyx_last_error();
        }
        for (int b = 0; b < kBlocks && failures[t].empty(); ++b) {
          unsigned char back[256];
          if (nyx_cuda_copy_to_host(back, blocks[b], sizeof back, nullptr) !=
              NYX_OK)
            failures[t] = nyx_last_error();
          for (unsigned char byte : back)
            if (byte != t + 1)
              failures[t] = "block " + std::to_string(b) +
                            " was overwritten by another thread";
        }
        for (void *block : blocks)
          if (nyx_cuda_free(block) != NYX_OK)
            failures[t] = nyx_last_error();
      }
    });
  for (std::thread &t : threads)
    t.join();
  for (int t = 0; t < kThreads; ++t)
    EXPECT_EQ(failures[t], "") << "thread " << t;
}

} // namespace

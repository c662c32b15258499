// NumPy .npy reading and writing, including files produced and consumed by
// NumPy itself.
#include "nyx/npy.h"
#include "nyx/runtime.h"

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

constexpr const char *kPython = "/usr/bin/python3";

std::string readFile(const std::string &p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool numpyAvailable() {
  std::string command =
      std::string(kPython) + " -c 'import numpy' >/dev/null 2>&1";
  return std::system(command.c_str()) == 0;
}

class NpyTest : public nyx::test::TempDirTest {
protected:
  // Runs a Python program (with numpy imported as np and the temp dir as D)
  // and returns its exit status.
  int runPython(const std::string &program) {
    std::string script = path("script.py");
    std::ofstream(script) << "import numpy as np\nD = '" << dir_ << "'\n"
                          << program;
    std::string command = std::string(kPython) + " '" + script + "'";
    return std::system(command.c_str());
  }

  // A .npy file with a hand-written header (padding and newline added).
  std::string writeNpy(const std::string &name, const std::string &dict,
                       const std::string &data, int major = 1) {
    std::string header = dict;
    size_t prefix = major == 1 ? 10 : 12;
    while ((prefix + header.size() + 1) % 64 != 0)
      header += ' ';
    header += '\n';
    std::string bytes = "\x93NUMPY";
    bytes += static_cast<char>(major);
    bytes += '\0';
    size_t length = header.size();
    for (size_t i = 0; i < prefix - 8; ++i)
      bytes += static_cast<char>(length >> (8 * i));
    bytes += header + data;
    std::string p = path(name);
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }

  void expectReadFails(const std::string &p, int status,
                       std::vector<std::string> fragments) {
    nyx_dtype dtype;
    int rank;
    int64_t shape[NYX_NPY_MAX_RANK];
    void *data = reinterpret_cast<void *>(1);
    size_t nbytes = 99;
    EXPECT_EQ(nyx_npy_read(p.c_str(), &dtype, &rank, shape, &data, &nbytes),
              status)
        << nyx_last_error();
    EXPECT_EQ(data, nullptr);
    EXPECT_EQ(nbytes, 0u);
    std::string message = nyx_last_error();
    for (const std::string &f : fragments)
      EXPECT_NE(message.find(f), std::string::npos)
          << "message '" << message << "' lacks '" << f << "'";
  }
};

struct Array {
  nyx_dtype dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;
};

Array readArray(const std::string &p) {
  Array a;
  int rank = -1;
  int64_t shape[NYX_NPY_MAX_RANK];
  void *data = nullptr;
  size_t nbytes = 0;
  int status = nyx_npy_read(p.c_str(), &a.dtype, &rank, shape, &data, &nbytes);
  EXPECT_EQ(status, NYX_OK) << nyx_last_error();
  if (status != NYX_OK)
    return a;
  EXPECT_NE(data, nullptr);
  a.shape.assign(shape, shape + rank);
  auto *bytes = static_cast<const uint8_t *>(data);
  a.data.assign(bytes, bytes + nbytes);
  nyx_free(data);
  return a;
}

const nyx_dtype kNpyDTypes[] = {NYX_F32, NYX_F16, NYX_F64, NYX_I8,
                                NYX_I32, NYX_I64, NYX_BOOL};

const std::vector<std::vector<int64_t>> kShapes = {
    {}, {5}, {1}, {0}, {2, 3}, {3, 0}, {2, 3, 4}, {1, 2, 1, 3}, {2, 2, 2, 2}};

std::vector<uint8_t> patternBytes(nyx_dtype dtype, size_t n) {
  std::vector<uint8_t> bytes(n);
  for (size_t i = 0; i < n; ++i)
    bytes[i] =
        dtype == NYX_BOOL ? (i % 3 == 0) : static_cast<uint8_t>(i * 29 + 3);
  return bytes;
}

TEST_F(NpyTest, RoundTripsEveryDTypeAndRanksZeroToFour) {
  for (nyx_dtype dtype : kNpyDTypes) {
    for (const auto &shape : kShapes) {
      size_t n = nyx_dtype_size(dtype);
      for (int64_t d : shape)
        n *= static_cast<size_t>(d);
      std::vector<uint8_t> data = patternBytes(dtype, n);
      std::string p = path("round.npy");
      SCOPED_TRACE(std::string(nyx_dtype_name(dtype)) + " rank " +
                   std::to_string(shape.size()));
      ASSERT_EQ(nyx_npy_write(p.c_str(), dtype, static_cast<int>(shape.size()),
                              shape.data(), data.data()),
                NYX_OK)
          << nyx_last_error();
      std::string bytes = readFile(p);
      ASSERT_GE(bytes.size(), 10u);
      EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
      size_t header = static_cast<uint8_t>(bytes[8]) |
                      static_cast<size_t>(static_cast<uint8_t>(bytes[9])) << 8;
      EXPECT_EQ((10 + header) % 64, 0u);
      EXPECT_EQ(bytes[10 + header - 1], '\n');
      EXPECT_EQ(bytes.size(), 10 + header + n);

      Array a = readArray(p);
      EXPECT_EQ(a.dtype, dtype);
      EXPECT_EQ(a.shape, shape);
      EXPECT_EQ(a.data, data);
    }
  }
}

TEST_F(NpyTest, WriterRejectsBadArguments) {
  std::string p = path("bad.npy");
  int64_t shape[1] = {2};
  uint16_t data[2] = {1, 2};
  EXPECT_EQ(nyx_npy_write(p.c_str(), NYX_BF16, 1, shape, data),
            NYX_ERR_UNSUPPORTED);
  EXPECT_NE(std::string(nyx_last_error()).find("bf16 has no .npy equivalent"),
            std::string::npos)
      << nyx_last_error();
  int64_t negative[1] = {-1};
  EXPECT_EQ(nyx_npy_write(p.c_str(), NYX_F32, 1, negative, data),
            NYX_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(nyx_npy_write(p.c_str(), NYX_F32, 9, shape, data),
            NYX_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(nyx_npy_write(p.c_str(), NYX_F32, 1, shape, nullptr),
            NYX_ERR_INVALID_ARGUMENT);
  std::string missing_dir = path("no/dir/x.npy");
  EXPECT_EQ(nyx_npy_write(missing_dir.c_str(), NYX_F32, 1, shape, data),
            NYX_ERR_IO);
}

TEST_F(NpyTest, ReadsFilesWrittenByNumpy) {
  if (!numpyAvailable())
    GTEST_SKIP() << "numpy is not available to " << kPython;
  // Each array is saved as NAME.npy next to its raw bytes in NAME.bin, in
  // every format version.
  ASSERT_EQ(runPython(R"(
cases = {
  'f32': ('<f4', (2, 3)), 'f16': ('<f2', (5,)), 'f64': ('<f8', ()),
  'i8': ('i1', (2, 2, 2)), 'i32': ('<i4', (1, 3, 1, 2)), 'i64': ('<i8', (4,)),
  'bool': ('?', (3, 3)), 'empty': ('<f4', (2, 0)),
}
for name, (dtype, shape) in cases.items():
    n = int(np.prod(shape))
    a = (np.arange(n) * 1.5 - 4).reshape(shape)
    a = (np.arange(n) % 3 == 0).reshape(shape) if dtype == '?' else a.astype(dtype)
    open(f'{D}/{name}.bin', 'wb').write(a.tobytes())
    np.save(f'{D}/{name}.npy', a)
    for version in [(2, 0), (3, 0)]:
        with open(f'{D}/{name}_v{version[0]}.npy', 'wb') as f:
            np.lib.format.write_array(f, a, version=version)
)"),
            0);
  struct Expected {
    const char *name;
    nyx_dtype dtype;
    std::vector<int64_t> shape;
  };
  const Expected expected[] = {
      {"f32", NYX_F32, {2, 3}},       {"f16", NYX_F16, {5}},
      {"f64", NYX_F64, {}},           {"i8", NYX_I8, {2, 2, 2}},
      {"i32", NYX_I32, {1, 3, 1, 2}}, {"i64", NYX_I64, {4}},
      {"bool", NYX_BOOL, {3, 3}},     {"empty", NYX_F32, {2, 0}},
  };
  for (const Expected &e : expected) {
    std::string raw = readFile(path(std::string(e.name) + ".bin"));
    for (const char *suffix : {".npy", "_v2.npy", "_v3.npy"}) {
      SCOPED_TRACE(std::string(e.name) + suffix);
      Array a = readArray(path(std::string(e.name) + suffix));
      EXPECT_EQ(a.dtype, e.dtype);
      EXPECT_EQ(a.shape, e.shape);
      EXPECT_EQ(std::string(a.data.begin(), a.data.end()), raw);
    }
  }
}

TEST_F(NpyTest, NumpyReadsWhatTheRuntimeWrites) {
  if (!numpyAvailable())
    GTEST_SKIP() << "numpy is not available to " << kPython;
  std::string checks;
  for (nyx_dtype dtype : kNpyDTypes) {
    for (const auto &shape : kShapes) {
      size_t n = nyx_dtype_size(dtype);
      for (int64_t d : shape)
        n *= static_cast<size_t>(d);
      std::vector<uint8_t> data = patternBytes(dtype, n);
      std::string name = std::string(nyx_dtype_name(dtype)) + "_" +
                         std::to_string(checks.size());
      ASSERT_EQ(nyx_npy_write(path(name + ".npy").c_str(), dtype,
                              static_cast<int>(shape.size()), shape.data(),
                              data.data()),
                NYX_OK);
      std::ofstream(path(name + ".bin"), std::ios::binary)
          .write(reinterpret_cast<const char *>(data.data()),
                 static_cast<std::streamsize>(data.size()));
      std::string tuple = "(";
      for (int64_t d : shape)
        tuple += std::to_string(d) + ",";
      tuple += ")";
      checks += "check('" + name + "', '" + nyx_dtype_name(dtype) + "', " +
                tuple + ")\n";
    }
  }
  ASSERT_EQ(runPython(R"(
import sys
names = {'f32': '<f4', 'f16': '<f2', 'f64': '<f8', 'i8': '|i1', 'i32': '<i4',
         'i64': '<i8', 'bool': '|b1'}
def check(name, dtype, shape):
    a = np.load(f'{D}/{name}.npy')
    raw = open(f'{D}/{name}.bin', 'rb').read()
    if a.dtype.str != names[dtype] or a.shape != shape or a.tobytes() != raw \
            or not a.flags.c_contiguous:
        print('mismatch in', name, a.dtype.str, a.shape)
        sys.exit(1)
)" + checks),
            0);
}

TEST_F(NpyTest, RejectsUnsupportedArrays) {
  struct Case {
    std::string dict;
    std::string data;
    std::string fragment;
  };
  const Case cases[] = {
      {"{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }",
       std::string(16, 'x'), "Fortran order"},
      {"{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }",
       std::string(8, 'x'), "dtype '>f4' is big-endian"},
      {"{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }",
       std::string(2, 'x'), "dtype '|u1' is not supported"},
      {"{'descr': '<i2', 'fortran_order': False, 'shape': (2,), }",
       std::string(4, 'x'), "dtype '<i2' is not supported"},
      {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }",
       std::string(4, 'x'), "structured dtypes"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': "
       "(1, 1, 1, 1, 1, 1, 1, 1, 1), }",
       std::string(4, 'x'), "more than 8 dimensions"},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.dict);
    std::string p = writeNpy("unsupported.npy", c.dict, c.data);
    expectReadFails(p, NYX_ERR_UNSUPPORTED, {p, c.fragment});
  }
  std::string v4 = writeNpy(
      "v4.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }",
      std::string(4, 'x'), 4);
  expectReadFails(v4, NYX_ERR_UNSUPPORTED, {"version 4.0"});
}

TEST_F(NpyTest, NumpyFortranOrderArraysAreUnsupported) {
  if (!numpyAvailable())
    GTEST_SKIP() << "numpy is not available to " << kPython;
  ASSERT_EQ(runPython("np.save(f'{D}/f.npy', "
                      "np.asfortranarray(np.ones((2, 3), dtype='<f4')))\n"
                      "np.save(f'{D}/be.npy', np.ones(3, dtype='>i4'))\n"),
            0);
  expectReadFails(path("f.npy"), NYX_ERR_UNSUPPORTED, {"Fortran order"});
  expectReadFails(path("be.npy"), NYX_ERR_UNSUPPORTED, {"big-endian"});
}

TEST_F(NpyTest, RejectsMalformedAndTruncatedFiles) {
  const std::string good_dict =
      "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }";
  std::string full =
      readFile(writeNpy("good.npy", good_dict, std::string(24, 'x')));
  ASSERT_EQ(full.size(), 128u + 24u);

  struct Case {
    std::string bytes;
    std::string fragment;
  };
  const Case cases[] = {
      {full.substr(0, 5), "bad magic"},
      {"\x93NUMPX" + full.substr(6), "bad magic"},
      {full.substr(0, 9), "truncated inside the header length"},
      {full.substr(0, 40), "the file is truncated"},
      {full.substr(0, 128 + 20), "20 bytes of data; expected 24 for dtype <i4 "
                                 "and shape [2,3] (truncated)"},
      {full + "extra", "29 bytes of data; expected 24"},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.fragment);
    std::string p = path("malformed.npy");
    std::ofstream(p, std::ios::binary) << c.bytes;
    expectReadFails(p, NYX_ERR_FORMAT, {p, c.fragment});
  }

  const std::pair<std::string, std::string> bad_headers[] = {
      {"['descr']", "expected '{'"},
      {"{'descr': '<i4', 'shape': (6,), }", "missing key 'fortran_order'"},
      {"{'descr': '<i4', 'fortran_order': False, 'shape': (6,), 'x': 1}",
       "unexpected or repeated key 'x'"},
      {"{'descr': '<i4', 'descr': '<i4', 'fortran_order': False, 'shape': "
       "(6,)}",
       "repeated key 'descr'"},
      {"{'descr': '<i4', 'fortran_order': maybe, 'shape': (6,), }",
       "fortran_order is not True or False"},
      {"{'descr': '<i4', 'fortran_order': False, 'shape': (6, -1), }",
       "expected a non-negative integer"},
      {"{'descr': '<i4', 'fortran_order': False, 'shape': (6 6), }",
       "expected ',' or ')'"},
      {"{'descr': '<i4', 'fortran_order': False, 'shape': (6,), } junk",
       "unexpected text after the dict"},
      {"{'descr: '<i4'}", "expected ':'"},
  };
  for (const auto &[dict, fragment] : bad_headers) {
    SCOPED_TRACE(dict);
    std::string p = writeNpy("header.npy", dict, std::string(24, 'x'));
    expectReadFails(p, NYX_ERR_FORMAT, {p, fragment});
  }

  std::string missing = path("missing.npy");
  expectReadFails(missing, NYX_ERR_IO, {missing});
}

TEST_F(NpyTest, AcceptsPython2StyleLongsAndDoubleQuotes) {
  std::string p = writeNpy("py2.npy",
                           "{\"descr\": \"<i8\", \"fortran_order\": False, "
                           "\"shape\": (2L, 1L)}",
                           std::string(16, '\x01'));
  Array a = readArray(p);
  EXPECT_EQ(a.dtype, NYX_I64);
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(a.data.size(), 16u);
}

} // namespace

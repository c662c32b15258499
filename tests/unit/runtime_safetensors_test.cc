// Safetensors reading, writing and validation, and nyx_load_weights.
#include "nyx/runtime.h"
#include "nyx/safetensors.h"

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

class SafetensorsTest : public nyx::test::TempDirTest {
protected:
  // A file with the given header text (length prefix added) and data bytes.
  std::string writeRaw(const std::string &name, const std::string &header,
                       const std::string &data = std::string(),
                       int64_t length_override = -1) {
    std::string p = path(name);
    std::ofstream out(p, std::ios::binary);
    uint64_t length = length_override >= 0
                          ? static_cast<uint64_t>(length_override)
                          : header.size();
    for (int i = 0; i < 8; ++i)
      out.put(static_cast<char>(length >> (8 * i)));
    out << header << data;
    return p;
  }

  // Opens `p`, expecting failure with `status` and a message containing
  // each of `fragments`.
  void expectOpenFails(const std::string &p, int status,
                       std::vector<std::string> fragments) {
    nyx_safetensors *file = reinterpret_cast<nyx_safetensors *>(1);
    EXPECT_EQ(nyx_safetensors_open(p.c_str(), &file), status)
        << nyx_last_error();
    EXPECT_EQ(file, nullptr);
    std::string message = nyx_last_error();
    for (const std::string &f : fragments)
      EXPECT_NE(message.find(f), std::string::npos)
          << "message '" << message << "' lacks '" << f << "'";
  }

  std::vector<std::string> listDir() const {
    std::vector<std::string> names;
    DIR *d = opendir(dir_.c_str());
    while (dirent *e = readdir(d))
      if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, ".."))
        names.push_back(e->d_name);
    closedir(d);
    return names;
  }
};

std::string readFile(const std::string &p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Deterministic bytes for a tensor, distinct per tensor.
std::vector<uint8_t> patternBytes(size_t n, int seed) {
  std::vector<uint8_t> bytes(n);
  for (size_t i = 0; i < n; ++i)
    bytes[i] = static_cast<uint8_t>(i * 37 + seed * 11 + 1);
  return bytes;
}

struct OwnedTensor {
  std::string name;
  nyx_dtype dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;
  nyx_tensor_view view() const {
    return {name.c_str(), dtype,       static_cast<int>(shape.size()),
            shape.data(), data.data(), data.size()};
  }
};

OwnedTensor makeTensor(std::string name, nyx_dtype dtype,
                       std::vector<int64_t> shape, int seed) {
  size_t n = nyx_dtype_size(dtype);
  for (int64_t d : shape)
    n *= static_cast<size_t>(d);
  return {std::move(name), dtype, std::move(shape), patternBytes(n, seed)};
}

TEST_F(SafetensorsTest, RoundTripsEveryDType) {
  std::vector<OwnedTensor> tensors = {
      makeTensor("f32", NYX_F32, {2, 3}, 1),
      makeTensor("f16", NYX_F16, {5}, 2),
      makeTensor("bf16", NYX_BF16, {3, 1, 2}, 3),
      makeTensor("f64", NYX_F64, {}, 4),
      makeTensor("i8", NYX_I8, {7}, 5),
      makeTensor("i32", NYX_I32, {2, 2, 2, 2}, 6),
      makeTensor("i64", NYX_I64, {3}, 7),
      makeTensor("bool", NYX_BOOL, {4, 0}, 8),
      makeTensor("model.layers.0.w\xc3\xa9\"q\\", NYX_F32, {1}, 9),
  };
  std::vector<nyx_tensor_view> views;
  for (const OwnedTensor &t : tensors)
    views.push_back(t.view());
  std::string p = path("all.safetensors");
  ASSERT_EQ(nyx_safetensors_write(p.c_str(), views.data(), views.size()),
            NYX_OK)
      << nyx_last_error();

  nyx_safetensors *file = nullptr;
  ASSERT_EQ(nyx_safetensors_open(p.c_str(), &file), NYX_OK) << nyx_last_error();
  ASSERT_EQ(nyx_safetensors_count(file), tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const OwnedTensor &t = tensors[i];
    for (bool by_name : {false, true}) {
      nyx_tensor_view v{};
      if (by_name)
        ASSERT_EQ(nyx_safetensors_find(file, t.name.c_str(), &v), NYX_OK);
      else
        ASSERT_EQ(nyx_safetensors_get(file, i, &v), NYX_OK);
      EXPECT_EQ(std::string(v.name), t.name);
      EXPECT_EQ(v.dtype, t.dtype) << t.name;
      ASSERT_EQ(v.rank, static_cast<int>(t.shape.size())) << t.name;
      for (int d = 0; d < v.rank; ++d)
        EXPECT_EQ(v.shape[d], t.shape[static_cast<size_t>(d)]);
      ASSERT_EQ(v.nbytes, t.data.size()) << t.name;
      if (v.nbytes) {
        EXPECT_EQ(std::memcmp(v.data, t.data.data(), v.nbytes), 0) << t.name;
      }
    }
  }
  nyx_tensor_view v{};
  EXPECT_EQ(nyx_safetensors_get(file, tensors.size(), &v),
            NYX_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(nyx_safetensors_find(file, "absent", &v), NYX_ERR_NOT_FOUND);
  EXPECT_NE(std::string(nyx_last_error()).find("'absent'"), std::string::npos);
  nyx_safetensors_close(file);
}

// An empty tensor is empty however large its other dimensions are.
TEST_F(SafetensorsTest, EmptyTensorWithHugeDimensions) {
  const int64_t shape[] = {int64_t{1} << 40, int64_t{1} << 40, 0};
  nyx_tensor_view view = {"empty", NYX_F32, 3, shape, nullptr, 0};
  std::string p = path("empty.safetensors");
  ASSERT_EQ(nyx_safetensors_write(p.c_str(), &view, 1), NYX_OK)
      << nyx_last_error();
  nyx_safetensors *file = nullptr;
  ASSERT_EQ(nyx_safetensors_open(p.c_str(), &file), NYX_OK) << nyx_last_error();
  nyx_tensor_view back;
  ASSERT_EQ(nyx_safetensors_find(file, "empty", &back), NYX_OK);
  EXPECT_EQ(back.rank, 3);
  EXPECT_EQ(back.shape[0], int64_t{1} << 40);
  EXPECT_EQ(back.nbytes, 0u);
  nyx_safetensors_close(file);
}

TEST_F(SafetensorsTest, WriterPadsTheHeaderAndKeepsTensorOrder) {
  OwnedTensor a = makeTensor("z_first", NYX_F32, {3}, 1);
  OwnedTensor b = makeTensor("a_second", NYX_I8, {5}, 2);
  nyx_tensor_view views[] = {a.view(), b.view()};
  std::string p = path("order.safetensors");
  ASSERT_EQ(nyx_safetensors_write(p.c_str(), views, 2), NYX_OK);
  std::string bytes = readFile(p);
  ASSERT_GE(bytes.size(), 8u);
  uint64_t length = 0;
  for (int i = 7; i >= 0; --i)
    length = (length << 8) | static_cast<uint8_t>(bytes[i]);
  EXPECT_EQ(length % 8, 0u);
  ASSERT_EQ(bytes.size(), 8 + length + 12 + 5);
  std::string header = bytes.substr(8, length);
  EXPECT_EQ(header.rfind("{\"z_first\":{\"dtype\":\"F32\",\"shape\":[3],"
                         "\"data_offsets\":[0,12]},\"a_second\":{\"dtype\":"
                         "\"I8\",\"shape\":[5],\"data_offsets\":[12,17]}}",
                         0),
            0u)
      << header;
  EXPECT_EQ(header.find_first_not_of(' ', header.find("}}") + 2),
            std::string::npos);
  EXPECT_EQ(std::memcmp(bytes.data() + 8 + length, a.data.data(), 12), 0);
  EXPECT_EQ(std::memcmp(bytes.data() + 8 + length + 12, b.data.data(), 5), 0);
  // No temporary file is left behind.
  EXPECT_EQ(listDir(), std::vector<std::string>{"order.safetensors"});
}

TEST_F(SafetensorsTest, WriteReplacesAnExistingFileAtomically) {
  std::string p = path("replace.safetensors");
  OwnedTensor a = makeTensor("a", NYX_F32, {4}, 1);
  nyx_tensor_view va = a.view();
  ASSERT_EQ(nyx_safetensors_write(p.c_str(), &va, 1), NYX_OK);
  OwnedTensor b = makeTensor("b", NYX_I64, {2}, 2);
  nyx_tensor_view vb = b.view();
  ASSERT_EQ(nyx_safetensors_write(p.c_str(), &vb, 1), NYX_OK);
  nyx_safetensors *file = nullptr;
  ASSERT_EQ(nyx_safetensors_open(p.c_str(), &file), NYX_OK);
  EXPECT_EQ(nyx_safetensors_count(file), 1u);
  nyx_tensor_view v{};
  EXPECT_EQ(nyx_safetensors_find(file, "b", &v), NYX_OK);
  nyx_safetensors_close(file);
  EXPECT_EQ(listDir(), std::vector<std::string>{"replace.safetensors"});

  // A failed write leaves the old file intact.
  OwnedTensor bad = makeTensor("c", NYX_F32, {4}, 3);
  nyx_tensor_view vbad = bad.view();
  vbad.nbytes = 15;
  EXPECT_EQ(nyx_safetensors_write(p.c_str(), &vbad, 1),
            NYX_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(nyx_last_error()).find("expected 16"),
            std::string::npos)
      << nyx_last_error();
  ASSERT_EQ(nyx_safetensors_open(p.c_str(), &file), NYX_OK);
  EXPECT_EQ(nyx_safetensors_find(file, "b", &v), NYX_OK);
  nyx_safetensors_close(file);
}

TEST_F(SafetensorsTest, WriterRejectsBadTensorLists) {
  OwnedTensor a = makeTensor("same", NYX_F32, {1}, 1);
  nyx_tensor_view twice[] = {a.view(), a.view()};
  std::string p = path("bad.safetensors");
  EXPECT_EQ(nyx_safetensors_write(p.c_str(), twice, 2),
            NYX_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(nyx_last_error()).find("'same' is used twice"),
            std::string::npos)
      << nyx_last_error();

  OwnedTensor reserved = makeTensor("__metadata__", NYX_F32, {1}, 1);
  nyx_tensor_view v = reserved.view();
  EXPECT_EQ(nyx_safetensors_write(p.c_str(), &v, 1), NYX_ERR_INVALID_ARGUMENT);
  OwnedTensor unnamed = makeTensor("", NYX_F32, {1}, 1);
  v = unnamed.view();
  EXPECT_EQ(nyx_safetensors_write(p.c_str(), &v, 1), NYX_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(listDir().empty());

  v = a.view();
  std::string missing_dir = path("no/such/dir/x.safetensors");
  EXPECT_EQ(nyx_safetensors_write(missing_dir.c_str(), &v, 1), NYX_ERR_IO);
  EXPECT_NE(std::string(nyx_last_error()).find(missing_dir), std::string::npos);
}

TEST_F(SafetensorsTest, ReadsAHandWrittenFileWithMetadataAndEscapes) {
  // Names use JSON escapes, including a surrogate pair; tensors are stored
  // out of header order and with extra whitespace.
  std::string header =
      "{ \"__metadata__\" : {\"format\": \"pt\"},\n"
      "  \"b\\u00e9\\ud83d\\ude00\": {\"dtype\": \"I32\", \"shape\": [2],"
      " \"data_offsets\": [4, 12]},\n"
      "  \"a\\/\\n\": {\"shape\": [], \"dtype\": \"F32\", "
      "\"data_offsets\": [0, 4]} }";
  std::string data(12, '\0');
  for (int i = 0; i < 12; ++i)
    data[static_cast<size_t>(i)] = static_cast<char>(i + 1);
  std::string p = writeRaw("hand.safetensors", header, data);
  nyx_safetensors *file = nullptr;
  ASSERT_EQ(nyx_safetensors_open(p.c_str(), &file), NYX_OK) << nyx_last_error();
  ASSERT_EQ(nyx_safetensors_count(file), 2u);
  nyx_tensor_view v{};
  ASSERT_EQ(nyx_safetensors_get(file, 0, &v), NYX_OK);
  EXPECT_EQ(std::string(v.name), "a/\n"); // ordered by data offset
  EXPECT_EQ(v.rank, 0);
  EXPECT_EQ(v.nbytes, 4u);
  ASSERT_EQ(nyx_safetensors_find(file, "b\xc3\xa9\xf0\x9f\x98\x80", &v),
            NYX_OK);
  EXPECT_EQ(v.dtype, NYX_I32);
  EXPECT_EQ(static_cast<const char *>(v.data)[0], 5);
  nyx_safetensors_close(file);
}

TEST_F(SafetensorsTest, RejectsTruncatedFiles) {
  std::string p = path("tiny.safetensors");
  std::ofstream(p, std::ios::binary) << "abc";
  expectOpenFails(p, NYX_ERR_FORMAT, {p, "3 bytes", "8-byte header length"});

  std::string empty = path("empty.safetensors");
  std::ofstream(empty, std::ios::binary).flush();
  expectOpenFails(empty, NYX_ERR_FORMAT, {"0 bytes"});

  // A valid file cut inside its data.
  OwnedTensor a = makeTensor("a", NYX_F32, {8}, 1);
  nyx_tensor_view v = a.view();
  std::string whole = path("whole.safetensors");
  ASSERT_EQ(nyx_safetensors_write(whole.c_str(), &v, 1), NYX_OK);
  std::string bytes = readFile(whole);
  std::string cut = path("cut.safetensors");
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() - 5);
  expectOpenFails(cut, NYX_ERR_FORMAT, {"'a'", "[0,32]", "27 bytes of data"});
}

TEST_F(SafetensorsTest, RejectsHeaderLengthBeyondTheFile) {
  std::string p = writeRaw("long.safetensors", "{}", "", 1000);
  expectOpenFails(p, NYX_ERR_FORMAT,
                  {p, "header length is 1000 bytes", "only 2 bytes"});
  std::string huge = writeRaw("huge.safetensors", "{}", "", INT64_MAX);
  expectOpenFails(huge, NYX_ERR_FORMAT, {"header length"});
}

TEST_F(SafetensorsTest, RejectsBadJsonAndSaysWhere) {
  struct Case {
    const char *header;
    const char *fragment;
  };
  const Case cases[] = {
      {"", "byte 0: unexpected end of input"},
      {"{\"a\": {}, }", "byte 10: expected a string key"},
      {"{\"a\" {}}", "byte 5: expected ':'"},
      {"[1, 2,]", "byte 6: unexpected character"},
      {"{\"a\": 01}", "leading zero"},
      {"{\"a\": tru}", "invalid literal"},
      {"{\"a\": \"x\\q\"}", "invalid escape"},
      {"{\"a\": \"\\ud800\"}", "surrogate"},
      {"{\"a\": \"\\udc00\"}", "unpaired low surrogate"},
      {"{\"a\": \"\\u12g4\"}", "hex digits"},
      {"{\"a\": \"tab\there\"}", "control character"},
      {"{\"a\": \"\xff\"}", "invalid UTF-8"},
      {"{\"a\": \"open}", "unterminated string"},
      {"{} {}", "byte 3: unexpected data after"},
      {"{\"a\": 1.}", "expected a digit after '.'"},
      {"{\"a\": -}", "expected a digit"},
      {"{\"a\": [1 2]}", "expected ',' or ']'"},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.header);
    std::string p = writeRaw("bad.safetensors", c.header);
    expectOpenFails(p, NYX_ERR_FORMAT, {p, "invalid JSON header", c.fragment});
  }
  // Deep nesting is refused rather than overflowing the stack.
  std::string deep = std::string(10000, '[') + std::string(10000, ']');
  expectOpenFails(writeRaw("deep.safetensors", deep), NYX_ERR_FORMAT,
                  {"nested too deeply"});
}

TEST_F(SafetensorsTest, RejectsHeadersWithTheWrongStructure) {
  struct Case {
    std::string header;
    std::string data;
    int status;
    std::string fragment;
  };
  const std::string entry_a =
      "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";
  const Case cases[] = {
      {"[]", "", NYX_ERR_FORMAT, "header is an array; expected an object"},
      {"{\"a\": 3}", "", NYX_ERR_FORMAT, "'a' is a number; expected an object"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":{},\"data_offsets\":[0,0]}}", "",
       NYX_ERR_FORMAT, "'a': shape is an object; expected an array"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", std::string(8, 'x'),
       NYX_ERR_FORMAT, "'a' lacks 'data_offsets'"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],"
       "\"extra\":1}}",
       std::string(8, 'x'), NYX_ERR_FORMAT, "unknown header key 'extra'"},
      {"{\"a\":{\"dtype\":5,\"shape\":[2],\"data_offsets\":[0,8]}}",
       std::string(8, 'x'), NYX_ERR_FORMAT,
       "'a': dtype is a number; expected a string"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}",
       std::string(8, 'x'), NYX_ERR_FORMAT, "not a non-negative integer"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}",
       std::string(8, 'x'), NYX_ERR_FORMAT, "not a non-negative integer"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],"
       "\"data_offsets\":[0,4]}}",
       std::string(4, 'x'), NYX_ERR_UNSUPPORTED, "rank 9"},
      {"{" + entry_a + "," + entry_a + "}", std::string(8, 'x'), NYX_ERR_FORMAT,
       "'a' appears twice"},
      {"{\"__metadata__\": {\"k\": 1}}", "", NYX_ERR_FORMAT,
       "'__metadata__' value for 'k' is a number"},
      {"{\"__metadata__\": []}", "", NYX_ERR_FORMAT,
       "'__metadata__' is an array; expected an object"},
      {"{\"a\\u0000b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,"
       "8]}}",
       std::string(8, 'x'), NYX_ERR_FORMAT, "NUL character"},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.header);
    std::string p = writeRaw("structure.safetensors", c.header, c.data);
    expectOpenFails(p, c.status, {p, c.fragment});
  }
}

TEST_F(SafetensorsTest, RejectsBadOffsets) {
  struct Case {
    std::string offsets;
    std::string fragment;
  };
  const Case cases[] = {
      {"[0,12]", "[0,12] beyond the 8 bytes of data"},
      {"[4,0]", "end before they begin"},
      {"[0,4]", "spanning 4 bytes; expected 8 for F32 [2]"},
      {"[0]", "not two non-negative integers"},
      {"[0,-8]", "not two non-negative integers"},
      {"[0,\"8\"]", "not two non-negative integers"},
      {"[0,99999999999999999999999]", "not two non-negative integers"},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.offsets);
    std::string header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
                         "\"data_offsets\":" +
                         c.offsets + "}}";
    std::string p =
        writeRaw("offsets.safetensors", header, std::string(8, 'x'));
    expectOpenFails(p, NYX_ERR_FORMAT, {p, "'a'", c.fragment});
  }
  std::string overlapping =
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
      "\"b\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
  expectOpenFails(
      writeRaw("overlap.safetensors", overlapping, std::string(8, 'x')),
      NYX_ERR_FORMAT, {"'a' [0,8] and 'b' [4,8] overlap"});
}

TEST_F(SafetensorsTest, UnsupportedDTypesAreNamed) {
  for (const char *dtype : {"U8", "I16", "U64", "F8_E4M3", "F33", "f32"}) {
    SCOPED_TRACE(dtype);
    std::string header = std::string("{\"a\":{\"dtype\":\"") + dtype +
                         "\",\"shape\":[1],\"data_offsets\":[0,1]}}";
    std::string p = writeRaw("dtype.safetensors", header, "x");
    expectOpenFails(p, NYX_ERR_UNSUPPORTED,
                    {p, std::string("dtype '") + dtype + "'", "'a'"});
  }
}

TEST_F(SafetensorsTest, MissingFileIsAnIoError) {
  std::string p = path("missing.safetensors");
  expectOpenFails(p, NYX_ERR_IO, {p, "No such file"});
  expectOpenFails(dir_, NYX_ERR_IO, {"not a regular file"});
}

// ---- nyx_load_weights ----------------------------------------------------

class LoadWeightsTest : public SafetensorsTest {
protected:
  void SetUp() override {
    SafetensorsTest::SetUp();
    tensors_ = {makeTensor("fc1.weight", NYX_F32, {10, 4}, 1),
                makeTensor("fc1.bias", NYX_F32, {10}, 2),
                makeTensor("steps", NYX_I64, {}, 3),
                makeTensor("unused", NYX_I8, {3}, 4)};
    std::vector<nyx_tensor_view> views;
    for (const OwnedTensor &t : tensors_)
      views.push_back(t.view());
    file_ = path("weights.safetensors");
    ASSERT_EQ(nyx_safetensors_write(file_.c_str(), views.data(), views.size()),
              NYX_OK);
  }

  int load(std::vector<nyx_tensor_desc> descs, size_t total, size_t align,
           void **out) {
    return nyx_load_weights(file_.c_str(), descs.data(), descs.size(), total,
                            align, out);
  }

  std::vector<OwnedTensor> tensors_;
  std::string file_;
  const int64_t weight_shape_[2] = {10, 4};
  const int64_t bias_shape_[1] = {10};
};

TEST_F(LoadWeightsTest, CopiesEachTensorToItsOffset) {
  // Tensors in a different order than in the file, with padding between.
  std::vector<nyx_tensor_desc> descs = {
      {"fc1.bias", NYX_F32, 1, bias_shape_, 0},
      {"steps", NYX_I64, 0, nullptr, 64},
      {"fc1.weight", NYX_F32, 2, weight_shape_, 128},
  };
  for (size_t align : {size_t{0}, size_t{1}, size_t{64}, size_t{4096}}) {
    void *buffer = nullptr;
    ASSERT_EQ(load(descs, 288, align, &buffer), NYX_OK) << nyx_last_error();
    ASSERT_NE(buffer, nullptr);
    size_t expected_align = align ? std::max(align, sizeof(void *)) : 64;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(buffer) % expected_align, 0u);
    auto *bytes = static_cast<const uint8_t *>(buffer);
    EXPECT_EQ(std::memcmp(bytes, tensors_[1].data.data(), 40), 0);
    EXPECT_EQ(std::memcmp(bytes + 64, tensors_[2].data.data(), 8), 0);
    EXPECT_EQ(std::memcmp(bytes + 128, tensors_[0].data.data(), 160), 0);
    for (size_t i = 40; i < 64; ++i)
      EXPECT_EQ(bytes[i], 0) << "padding byte " << i;
    nyx_free_weights(buffer);
  }
  nyx_free_weights(nullptr);
}

TEST_F(LoadWeightsTest, MissingTensorIsNotFound) {
  std::vector<nyx_tensor_desc> descs = {
      {"fc2.weight", NYX_F32, 2, weight_shape_, 0}};
  void *buffer = reinterpret_cast<void *>(1);
  EXPECT_EQ(load(descs, 160, 64, &buffer), NYX_ERR_NOT_FOUND);
  EXPECT_EQ(buffer, nullptr);
  EXPECT_EQ(std::string(nyx_last_error()),
            file_ + ": no tensor named 'fc2.weight'");
}

TEST_F(LoadWeightsTest, ShapeMismatchNamesFileTensorAndBothShapes) {
  const int64_t wrong[2] = {10, 5};
  std::vector<nyx_tensor_desc> descs = {{"fc1.weight", NYX_F32, 2, wrong, 0}};
  void *buffer = nullptr;
  EXPECT_EQ(load(descs, 200, 64, &buffer), NYX_ERR_SHAPE_MISMATCH);
  EXPECT_EQ(buffer, nullptr);
  EXPECT_EQ(std::string(nyx_last_error()),
            file_ + ": tensor 'fc1.weight' has shape [10,4]; expected [10,5]");

  const int64_t flat[1] = {40};
  descs = {{"fc1.weight", NYX_F32, 1, flat, 0}};
  EXPECT_EQ(load(descs, 200, 64, &buffer), NYX_ERR_SHAPE_MISMATCH);
  EXPECT_EQ(std::string(nyx_last_error()),
            file_ + ": tensor 'fc1.weight' has shape [10,4]; expected [40]");
}

TEST_F(LoadWeightsTest, DTypeMismatchNamesBothDTypes) {
  std::vector<nyx_tensor_desc> descs = {
      {"fc1.bias", NYX_F16, 1, bias_shape_, 0}};
  void *buffer = nullptr;
  EXPECT_EQ(load(descs, 64, 64, &buffer), NYX_ERR_DTYPE_MISMATCH);
  EXPECT_EQ(std::string(nyx_last_error()),
            file_ + ": tensor 'fc1.bias' has dtype f32; expected f16");
}

TEST_F(LoadWeightsTest, BadArguments) {
  std::vector<nyx_tensor_desc> descs = {
      {"fc1.weight", NYX_F32, 2, weight_shape_, 100}};
  void *buffer = nullptr;
  EXPECT_EQ(load(descs, 200, 64, &buffer), NYX_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(nyx_last_error())
                .find("160 bytes at offset 100) does not fit in the 200-byte"),
            std::string::npos)
      << nyx_last_error();
  descs[0].offset = 0;
  EXPECT_EQ(load(descs, 200, 48, &buffer), NYX_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(nyx_last_error()).find("not a power of two"),
            std::string::npos);
  EXPECT_EQ(nyx_load_weights(file_.c_str(), descs.data(), 1, 200, 64, nullptr),
            NYX_ERR_INVALID_ARGUMENT);
}

TEST_F(LoadWeightsTest, FileErrorsPassThrough) {
  std::vector<nyx_tensor_desc> descs = {
      {"fc1.bias", NYX_F32, 1, bias_shape_, 0}};
  void *buffer = nullptr;
  std::string missing = path("nope.safetensors");
  EXPECT_EQ(nyx_load_weights(missing.c_str(), descs.data(), 1, 64, 64, &buffer),
            NYX_ERR_IO);
  EXPECT_NE(std::string(nyx_last_error()).find(missing), std::string::npos);

  std::string bytes = readFile(file_);
  std::string truncated = path("truncated.safetensors");
  std::ofstream(truncated, std::ios::binary) << bytes.substr(0, 20);
  EXPECT_EQ(
      nyx_load_weights(truncated.c_str(), descs.data(), 1, 64, 64, &buffer),
      NYX_ERR_FORMAT);
  EXPECT_NE(std::string(nyx_last_error()).find(truncated), std::string::npos);
  EXPECT_EQ(buffer, nullptr);
}

} // namespace

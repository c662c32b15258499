#include "compiler/calibration_data.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>

#include "compiler/tensor_files.h"
#include "ir/strings.h"

namespace nyx::compiler {

namespace fs = std::filesystem;

namespace {

// The batches `t` (from `file`) holds for `input`: itself, or its slices
// along a leading axis of batches.
absl::Status appendBatches(const std::string &file, const ir::Value &input,
                           const ir::Tensor &t, std::vector<ir::Tensor> &out) {
  const ir::TensorType &want = input.type;
  if (t.type() == want) {
    out.push_back(t);
    return absl::OkStatus();
  }
  const ir::Shape &shape = t.shape();
  if (t.dtype() != want.dtype || shape.size() != want.shape.size() + 1 ||
      !std::equal(want.shape.begin(), want.shape.end(), shape.begin() + 1))
    return absl::InvalidArgumentError(strCat(
        file, ": error: calibration data for %", input.name, " is ",
        t.type().str(), "; expected ", want.str(), " or a stack of them (",
        ir::dtypeName(want.dtype), "[n,", ir::shapeString(want.shape), "])"));
  const size_t bytes = t.byteSize() / static_cast<size_t>(shape[0]);
  for (int64_t b = 0; b < shape[0]; ++b) {
    ir::Tensor batch(want);
    if (bytes > 0)
      std::memcpy(batch.bytes(), t.bytes() + b * bytes, bytes);
    out.push_back(std::move(batch));
  }
  return absl::OkStatus();
}

// Input i's batches from the directory `dir`.
absl::StatusOr<std::vector<std::vector<ir::Tensor>>>
fromDirectory(const std::string &dir, const ir::Function &fn) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto &entry : fs::directory_iterator(dir, ec))
    if (entry.path().extension() == ".npy")
      files.push_back(entry.path());
  if (ec)
    return absl::InvalidArgumentError(
        strCat(dir, ": error: cannot read the directory: ", ec.message()));
  if (files.empty())
    return absl::InvalidArgumentError(
        strCat(dir, ": error: no .npy files; expected calibration inputs"));
  std::sort(files.begin(), files.end());
  std::vector<std::vector<ir::Tensor>> perInput(fn.params.size());
  for (const fs::path &file : files) {
    size_t input = 0;
    if (fn.params.size() != 1) {
      const std::string name = file.filename().string();
      const std::string stem = name.substr(0, name.find('.'));
      while (input < fn.params.size() && fn.params[input]->name != stem)
        ++input;
      if (input == fn.params.size())
        return absl::InvalidArgumentError(
            strCat(file.string(), ": error: '", stem, "' is not an input of @",
                   fn.name,
                   "; with several inputs a file is named after its "
                   "input (<input>.npy or <input>.<tag>.npy)"));
    }
    auto t = readNpy(file.string());
    if (!t.ok())
      return t.status();
    if (absl::Status s = appendBatches(file.string(), *fn.params[input], *t,
                                       perInput[input]);
        !s.ok())
      return s;
  }
  return perInput;
}

absl::StatusOr<std::vector<std::vector<ir::Tensor>>>
fromSafetensors(const std::string &path, const ir::Function &fn) {
  auto tensors = readSafetensors(path);
  if (!tensors.ok())
    return tensors.status();
  std::vector<std::vector<ir::Tensor>> perInput(fn.params.size());
  for (size_t i = 0; i < fn.params.size(); ++i) {
    auto it = tensors->find(fn.params[i]->name);
    if (it == tensors->end())
      return absl::InvalidArgumentError(
          strCat(path, ": error: no tensor '", fn.params[i]->name,
                 "'; expected one for each input of @", fn.name));
    if (absl::Status s =
            appendBatches(path, *fn.params[i], it->second, perInput[i]);
        !s.ok())
      return s;
  }
  return perInput;
}

} // namespace

absl::StatusOr<std::vector<std::vector<ir::Tensor>>>
loadCalibrationData(const std::string &path, const ir::Function &fn) {
  if (fn.params.empty())
    return absl::InvalidArgumentError(
        strCat("@", fn.name,
               " takes no inputs; there is nothing to "
               "calibrate it on"));
  auto perInput = fs::is_directory(path) ? fromDirectory(path, fn)
                                         : fromSafetensors(path, fn);
  if (!perInput.ok())
    return perInput.status();
  const size_t n = (*perInput)[0].size();
  for (size_t i = 1; i < perInput->size(); ++i)
    if ((*perInput)[i].size() != n)
      return absl::InvalidArgumentError(
          strCat(path, ": error: %", fn.params[0]->name, " has ", n,
                 " calibration batches and %", fn.params[i]->name, " has ",
                 (*perInput)[i].size(), "; expected as many for every input"));
  if (n == 0)
    return absl::InvalidArgumentError(
        strCat(path, ": error: no calibration batches (a stack of 0)"));
  std::vector<std::vector<ir::Tensor>> batches(n);
  for (size_t b = 0; b < n; ++b)
    for (auto &input : *perInput)
      batches[b].push_back(std::move(input[b]));
  return batches;
}

} // namespace nyx::compiler

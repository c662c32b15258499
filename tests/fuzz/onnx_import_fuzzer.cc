// libFuzzer target: any bytes given to the ONNX importer must give a model
// or an error status, never a crash, a hang or a sanitizer report. Built
// by scripts/fuzz-onnx.sh (clang, -DNYX_LIBFUZZER=ON).
#include <cstddef>
#include <cstdint>
#include <string>

#include "frontends/onnx/importer.h"
#include "onnx/onnx_pb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  onnx::ModelProto model;
  if (!model.ParseFromArray(data, static_cast<int>(size)))
    return 0;
  auto imported = nyx::onnx_import::importModel(model, "fuzz/model.onnx", {});
  (void)imported;
  return 0;
}

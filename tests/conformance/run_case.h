// Runs one conformance case in this process: imports model.onnx, compiles
// it with the standard pipeline, runs the object through the ORC JIT on
// every data set and compares the outputs with the expected ones; then runs
// the reference interpreter on the imported module and compares it too.
// Everything it finds goes out as records (records.h) as it goes, so the
// parent learns as much as possible from a case that crashes.
#pragma once

#include "tests/conformance/case_result.h"
#include "tests/conformance/records.h"

namespace nyx::conformance {

struct RunSettings {
  int passOptLevel = 2;    // compiler::standardPipeline(level)
  int codegenOptLevel = 2; // codegen::Options::optLevel
  bool interpreter = true; // also run the reference interpreter
};

void runCase(const TestCase &testCase, const RunSettings &settings,
             RecordWriter &out);

} // namespace nyx::conformance

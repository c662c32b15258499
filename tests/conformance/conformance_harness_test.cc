// Tests of the conformance harness itself: the ONNX comparison rule, the
// records between child and parent, the expected-passes list, the data set
// discovery, and whole cases run in child processes on small models written
// here.
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "onnx/onnx_pb.h"
#include "tests/conformance/case_runner.h"
#include "tests/conformance/compare.h"
#include "tests/conformance/discover.h"
#include "tests/conformance/expected.h"
#include "tests/conformance/records.h"
#include "tests/conformance/summary.h"
#include "tests/support/temp_dir.h"
#include "gtest/gtest.h"

namespace nyx::conformance {
namespace {

namespace fs = std::filesystem;

ir::Tensor f32(ir::Shape shape, std::vector<double> values) {
  ir::Tensor t(ir::TensorType{ir::DType::F32, std::move(shape)});
  for (size_t i = 0; i < values.size(); ++i)
    t.setDouble(static_cast<int64_t>(i), values[i]);
  return t;
}

TEST(Compare, FloatsWithinTheRunnersTolerancePass) {
  // |got - want| <= 1e-7 + 1e-3 * |want|.
  Comparison c = compareTensors(f32({2}, {1000.9, -2.0}),
                                f32({2}, {1000.0, -2.0015}), Tolerance{});
  EXPECT_TRUE(c.ok) << c.message;
}

TEST(Compare, AFloatOutsideTheToleranceFailsWithItsIndex) {
  Comparison c = compareTensors(f32({2, 2}, {1, 2, 3, 4.01}),
                                f32({2, 2}, {1, 2, 3, 4}), Tolerance{});
  EXPECT_FALSE(c.ok);
  EXPECT_EQ(c.mismatches, 1);
  EXPECT_NEAR(c.maxAbsError, 0.01, 1e-5);
  EXPECT_NE(c.message.find("1 of 4 elements of f32[2,2] differ"),
            std::string::npos)
      << c.message;
  EXPECT_NE(c.message.find("first at [1,1]"), std::string::npos) << c.message;
}

TEST(Compare, NaNEqualsNaNAndInfinitiesMustBeEqual) {
  double nan = std::numeric_limits<double>::quiet_NaN();
  double inf = std::numeric_limits<double>::infinity();
  EXPECT_TRUE(
      compareTensors(f32({2}, {nan, inf}), f32({2}, {nan, inf}), {}).ok);
  EXPECT_FALSE(compareTensors(f32({1}, {1}), f32({1}, {nan}), {}).ok);
  EXPECT_FALSE(compareTensors(f32({1}, {nan}), f32({1}, {1}), {}).ok);
  EXPECT_FALSE(compareTensors(f32({1}, {-inf}), f32({1}, {inf}), {}).ok);
  EXPECT_FALSE(compareTensors(f32({1}, {1e30}), f32({1}, {inf}), {}).ok);
}

TEST(Compare, IntegersMustBeEqual) {
  ir::Tensor a(ir::TensorType{ir::DType::I64, {3}});
  ir::Tensor b(ir::TensorType{ir::DType::I64, {3}});
  for (int i = 0; i < 3; ++i) {
    a.setInt(i, 1000000 + i);
    b.setInt(i, 1000000 + i);
  }
  EXPECT_TRUE(compareTensors(a, b, {}).ok);
  b.setInt(2, 1000001);
  Comparison c = compareTensors(a, b, {});
  EXPECT_FALSE(c.ok);
  EXPECT_NE(c.message.find("got 1000002, expected 1000001"), std::string::npos)
      << c.message;
}

TEST(Compare, TypesMustBeEqual) {
  Comparison c =
      compareTensors(f32({3}, {1, 2, 3}), f32({1, 3}, {1, 2, 3}), {});
  EXPECT_FALSE(c.ok);
  EXPECT_EQ(c.message, "has type f32[3]; expected f32[1,3]");
}

TEST(Records, EscapingRoundTrips) {
  std::string text = "a\\b\nc\td\\n";
  std::string escaped = escapeRecordValue(text);
  EXPECT_EQ(escaped.find('\n'), std::string::npos);
  EXPECT_EQ(unescapeRecordValue(escaped), text);
}

TEST(Records, AReaderRebuildsTheResultFromPiecesOfLines) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  RecordWriter out(fds[1]);
  out.opType("Relu");
  out.opType("ai.onnx.ml:Scaler");
  out.stage("codegen");
  out.stageTime("codegen", 0.5);
  out.stageTime("codegen", 0.25);
  out.result(Status::Fail, "output 0\nline two");
  out.stage("interpreter");
  out.interpreterResult(InterpreterStatus::Pass, "");
  out.done();
  close(fds[1]);
  std::string bytes;
  char buffer[256];
  for (ssize_t n; (n = read(fds[0], buffer, sizeof buffer)) > 0;)
    bytes.append(buffer, n);
  close(fds[0]);

  CaseResult r;
  RecordReader reader(r);
  for (size_t i = 0; i < bytes.size(); i += 7) // split mid-line
    reader.feed(std::string_view(bytes).substr(i, 7));
  EXPECT_TRUE(reader.done());
  EXPECT_TRUE(reader.sawResult());
  EXPECT_EQ(reader.stage(), "interpreter");
  EXPECT_EQ(r.opTypes, (std::vector<std::string>{"Relu", "ai.onnx.ml:Scaler"}));
  EXPECT_EQ(r.status, Status::Fail);
  EXPECT_EQ(r.message, "output 0\nline two");
  EXPECT_EQ(r.interpreter, InterpreterStatus::Pass);
  EXPECT_DOUBLE_EQ(r.stageSeconds["codegen"], 0.75);
}

CaseResult result(std::string suite, std::string name, Status status,
                  InterpreterStatus interpreter = InterpreterStatus::Pass) {
  CaseResult r;
  r.testCase = {std::move(suite), std::move(name), ""};
  r.status = status;
  r.message = status == Status::Pass ? "" : "why";
  r.interpreter = interpreter;
  return r;
}

TEST(Expected, ListedCasesThatNoLongerPassAreRegressions) {
  CaseIds listed = {"node/test_a", "node/test_b", "node/test_c",
                    "node/test_gone", "simple/test_s"};
  std::vector<CaseResult> results = {
      result("node", "test_a", Status::Pass),
      result("node", "test_b", Status::Fail),
      result("node", "test_c", Status::Pass, InterpreterStatus::Fail),
      result("node", "test_new", Status::Pass),
      result("node", "test_new_compiled_only", Status::Pass,
             InterpreterStatus::Error),
  };
  Selection nodeOnly{{"node"}, ""};
  ExpectedCheck check = checkExpected(listed, results, nodeOnly);
  EXPECT_EQ(check.regressions,
            (std::vector<std::string>{
                "node/test_b: fail: why", "node/test_c: interpreter fail: ",
                "node/test_gone: not found in the test data"}));
  EXPECT_EQ(check.newPasses, (std::vector<std::string>{"node/test_new"}));
  // simple/test_s was not selected: kept as it was.
  EXPECT_EQ(updatedExpected(listed, results, nodeOnly),
            (CaseIds{"node/test_a", "node/test_new", "simple/test_s"}));
}

TEST(Expected, AFilterJudgesOnlyTheCasesItSelects) {
  CaseIds listed = {"node/test_relu", "node/test_abs"};
  std::vector<CaseResult> results = {result("node", "test_relu", Status::Pass)};
  ExpectedCheck check = checkExpected(listed, results, Selection{{}, "relu"});
  EXPECT_TRUE(check.regressions.empty());
  EXPECT_EQ(updatedExpected(listed, results, Selection{{}, "relu"}), listed);
}

class ExpectedFile : public test::TempDirTest {};

TEST_F(ExpectedFile, WritesSortedLinesAndReadsThemBack) {
  CaseIds ids = {"simple/test_b", "node/test_a"};
  ASSERT_TRUE(writeExpected(path("e.txt"), ids).ok());
  std::ifstream in(path("e.txt"));
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text, "node/test_a\nsimple/test_b\n");
  auto read = readExpected(path("e.txt"));
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, ids);
  EXPECT_FALSE(readExpected(path("missing.txt")).ok());
}

TEST(Summary, UnsupportedReasonsDropTheNodeName) {
  EXPECT_EQ(unsupportedReason("node 'loop_1' (Loop, opset 16): op type "
                              "'Loop' is not supported"),
            "Loop: op type 'Loop' is not supported");
  EXPECT_EQ(unsupportedReason("node #3 (Cast, opset 13): to uint8"),
            "Cast: to uint8");
  EXPECT_EQ(unsupportedReason("the model uses opset 6"),
            "the model uses opset 6");
  EXPECT_EQ(unsupportedReason("graph input 'x0' has element type uint8"),
            "a graph input has element type uint8");
  EXPECT_EQ(unsupportedReason("node 'r' (Range, opset 11): Range is not "
                              "supported with input 'Size_FP' (limit) "
                              "computed at run time"),
            "Range: Range is not supported with input 'limit' computed at "
            "run time");
}

TEST(Summary, CountsACaseUnderEveryOpItUses) {
  CaseResult a = result("node", "test_a", Status::Pass);
  a.opTypes = {"Add", "Relu"};
  CaseResult b =
      result("node", "test_b", Status::Unsupported, InterpreterStatus::NotRun);
  b.opTypes = {"Relu"};
  Summary s = summarize({a, b});
  EXPECT_EQ(s.byOp["Add"].count(Status::Pass), 1);
  EXPECT_EQ(s.byOp["Relu"].cases, 2);
  EXPECT_EQ(s.byOp["Relu"].count(Status::Unsupported), 1);
  EXPECT_EQ(s.all.interpreterPass, 1);
  std::string report = markdownReport({a, b}, s, "nyx-onnx-conformance");
  EXPECT_NE(report.find("| `Relu` | 2 | 1 | 0 | 1 | 0 | 0 |"),
            std::string::npos)
      << report;
}

// Writes small backend-test-style cases: model.onnx and test_data_set_N.
class Cases : public test::TempDirTest {
protected:
  static onnx::TensorProto floats(const std::string &name,
                                  std::vector<int64_t> dims,
                                  std::vector<float> values) {
    onnx::TensorProto t;
    t.set_name(name);
    t.set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims)
      t.add_dims(d);
    for (float v : values)
      t.add_float_data(v);
    return t;
  }

  static void addValueInfo(onnx::ValueInfoProto *info, const std::string &name,
                           std::vector<int64_t> dims) {
    info->set_name(name);
    auto *tt = info->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims)
      tt->mutable_shape()->add_dim()->set_dim_value(d);
  }

  // A one-node model y = op(x) over f32[2,3].
  static onnx::ModelProto unaryModel(const std::string &opType,
                                     const std::string &domain = "") {
    onnx::ModelProto m;
    m.set_ir_version(8);
    auto *opset = m.add_opset_import();
    opset->set_domain("");
    opset->set_version(13);
    if (!domain.empty()) {
      auto *custom = m.add_opset_import();
      custom->set_domain(domain);
      custom->set_version(1);
    }
    auto *g = m.mutable_graph();
    g->set_name("g");
    auto *node = g->add_node();
    node->set_op_type(opType);
    node->set_domain(domain);
    node->add_input("x");
    node->add_output("y");
    addValueInfo(g->add_input(), "x", {2, 3});
    addValueInfo(g->add_output(), "y", {2, 3});
    return m;
  }

  // A case dir under <dir_>/suite/<name> with `model` and one data set.
  TestCase writeCase(const std::string &name, const onnx::ModelProto *model,
                     std::vector<float> input, std::vector<float> output) {
    fs::path dir = fs::path(dir_) / "suite" / name;
    fs::create_directories(dir / "test_data_set_0");
    if (model) {
      std::ofstream out(dir / "model.onnx", std::ios::binary);
      model->SerializeToOstream(&out);
    }
    std::ofstream in(dir / "test_data_set_0" / "input_0.pb", std::ios::binary);
    floats("x", {2, 3}, input).SerializeToOstream(&in);
    std::ofstream out(dir / "test_data_set_0" / "output_0.pb",
                      std::ios::binary);
    floats("y", {2, 3}, output).SerializeToOstream(&out);
    return {"suite", name, dir.string()};
  }
};

TEST_F(Cases, DataSetsAndTheirFilesAreOrderedByNumber) {
  for (std::string set : {"test_data_set_10", "test_data_set_2"}) {
    fs::create_directories(fs::path(dir_) / set);
    for (std::string file : {"input_0.pb", "input_11.pb", "input_3.pb",
                             "output_0.pb", "notes.txt"})
      std::ofstream(fs::path(dir_) / set / file) << "";
  }
  std::vector<DataSet> sets = findDataSets(dir_);
  ASSERT_EQ(sets.size(), 2u);
  EXPECT_EQ(fs::path(sets[0].dir).filename(), "test_data_set_2");
  ASSERT_EQ(sets[1].inputs.size(), 3u);
  EXPECT_EQ(fs::path(sets[1].inputs[2]).filename(), "input_11.pb");
  EXPECT_EQ(sets[1].outputs.size(), 1u);
}

TEST_F(Cases, FindCasesSelectsBySuiteAndFilter) {
  for (std::string d : {"node/test_relu", "node/test_abs", "simple/test_x"})
    fs::create_directories(fs::path(dir_) / d);
  auto all = findCases(dir_, {});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].id(), "node/test_abs");
  auto some = findCases(dir_, Selection{{"node"}, "rel"});
  ASSERT_TRUE(some.ok());
  ASSERT_EQ(some->size(), 1u);
  EXPECT_EQ((*some)[0].id(), "node/test_relu");
  EXPECT_FALSE(findCases(dir_, Selection{{"nosuch"}, ""}).ok());
  EXPECT_FALSE(findCases(path("missing"), {}).ok());
}

TEST_F(Cases, EachStatusFromChildProcesses) {
  onnx::ModelProto relu = unaryModel("Relu");
  onnx::ModelProto custom = unaryModel("Frobnicate", "com.example");
  std::vector<float> x = {-1, 2, -3, 4, 0.5f, -0.25f};
  std::vector<TestCase> cases = {
      writeCase("pass", &relu, x, {0, 2, 0, 4, 0.5f, 0}),
      writeCase("fail", &relu, x, {0, 2, 0, 4, 0.5f, 1}),
      writeCase("unsupported", &custom, x, x),
      writeCase("nomodel", nullptr, x, x),
  };
  fs::create_directories(fs::path(dir_) / "suite" / "garbage");
  std::ofstream(fs::path(dir_) / "suite" / "garbage" / "model.onnx")
      << "not a protobuf";
  cases.push_back(
      {"suite", "garbage", (fs::path(dir_) / "suite" / "garbage").string()});

  int calls = 0;
  std::vector<CaseResult> results = runCases(
      cases, RunSettings{}, RunnerSettings{.jobs = 2, .timeoutSeconds = 120},
      [&](const CaseResult &) { ++calls; });
  EXPECT_EQ(calls, 5);
  ASSERT_EQ(results.size(), 5u);
  const CaseResult &pass = results[0];
  EXPECT_EQ(pass.status, Status::Pass) << pass.message;
  EXPECT_EQ(pass.interpreter, InterpreterStatus::Pass)
      << pass.interpreterMessage;
  EXPECT_EQ(pass.opTypes, std::vector<std::string>{"Relu"});
  EXPECT_GT(pass.stageSeconds.count("codegen"), 0u);

  const CaseResult &fail = results[1];
  EXPECT_EQ(fail.status, Status::Fail);
  EXPECT_NE(fail.message.find("data set 0 output 0 'y' 1 of 6 elements"),
            std::string::npos)
      << fail.message;
  EXPECT_EQ(fail.interpreter, InterpreterStatus::Fail);

  EXPECT_EQ(results[2].status, Status::Unsupported) << results[2].message;
  EXPECT_EQ(results[2].opTypes,
            std::vector<std::string>{"com.example:Frobnicate"});
  EXPECT_EQ(results[3].status, Status::NoModel);
  EXPECT_EQ(results[3].message, "no model file");
  EXPECT_EQ(results[4].status, Status::Error);
  EXPECT_NE(results[4].message.find("not a serialized ModelProto"),
            std::string::npos)
      << results[4].message;
  EXPECT_EQ(results[4].interpreter, InterpreterStatus::NotRun);
}

} // namespace
} // namespace nyx::conformance

#include "tests/conformance/summary.h"

#include <algorithm>
#include <iomanip>
#include <regex>
#include <sstream>

#include "frontends/onnx/node_context.h"
#include "ir/strings.h"

namespace nyx::conformance {

void Tally::add(const CaseResult &r) {
  ++cases;
  ++byStatus[static_cast<size_t>(r.status)];
  switch (r.interpreter) {
  case InterpreterStatus::Pass:
    ++interpreterPass;
    break;
  case InterpreterStatus::Fail:
    ++interpreterFail;
    break;
  case InterpreterStatus::Error:
    ++interpreterError;
    break;
  case InterpreterStatus::NotRun:
    break;
  }
}

static bool usesOnlySupportedOps(const CaseResult &r) {
  static const std::vector<std::string_view> supported =
      onnx_import::supportedOpTypes();
  return !r.opTypes.empty() &&
         std::all_of(r.opTypes.begin(), r.opTypes.end(),
                     [](const std::string &op) {
                       return std::binary_search(supported.begin(),
                                                 supported.end(), op);
                     });
}

Summary summarize(const std::vector<CaseResult> &results) {
  Summary s;
  for (const CaseResult &r : results) {
    s.all.add(r);
    s.bySuite[r.testCase.suite].add(r);
    if (r.status != Status::NoModel && usesOnlySupportedOps(r)) {
      SupportedOps &sup = s.supportedBySuite[r.testCase.suite];
      ++sup.cases;
      sup.pass += r.status == Status::Pass;
    }
    for (const std::string &op : r.opTypes)
      s.byOp[op].add(r);
    for (const auto &[stage, seconds] : r.stageSeconds)
      s.stageSeconds[stage] += seconds;
    s.caseSeconds += r.seconds;
  }
  return s;
}

std::string unsupportedReason(const std::string &message) {
  static const std::regex node(
      R"(^node ('[^']*'|#[0-9]+) \(([^,]+), opset [0-9]+\): )");
  // Value names differ from model to model; the role of an input does not.
  static const std::regex graphInput(R"(graph input '[^']*')");
  static const std::regex nodeInput(R"(input '[^']*' \(([^)]*)\))");
  std::smatch m;
  std::string reason = message;
  if (std::regex_search(message, m, node))
    reason = strCat(m[2].str(), ": ", m.suffix().str());
  reason = std::regex_replace(reason, graphInput, "a graph input");
  return std::regex_replace(reason, nodeInput, "input '$1'");
}

namespace {

// Column widths of the plain tables.
constexpr int kNameWidth = 34, kNumberWidth = 8;

void tallyColumns(std::ostream &out, const Tally &t) {
  for (Status s :
       {Status::Pass, Status::Fail, Status::Unsupported, Status::Error})
    out << std::setw(kNumberWidth) << t.count(s);
}

void tallyHeader(std::ostream &out, std::string_view first) {
  out << std::left << std::setw(kNameWidth) << first << std::right
      << std::setw(kNumberWidth) << "cases";
  for (std::string_view h : {"pass", "fail", "unsupp", "error"})
    out << std::setw(kNumberWidth) << h;
}

// One table cell: no '|' or newline, and not too long.
std::string cell(std::string_view text, size_t limit = 400) {
  std::string out;
  for (char c : text) {
    if (out.size() >= limit) {
      out += " ...";
      break;
    }
    if (c == '|')
      out += "\\|";
    else if (c == '\n' || c == '\r')
      out += ' ';
    else
      out += c;
  }
  return out;
}

// "`a`, `b` and 3 more".
std::string caseList(const std::vector<std::string> &ids, size_t shown = 6) {
  std::vector<std::string> quoted;
  for (size_t i = 0; i < ids.size() && i < shown; ++i)
    quoted.push_back(strCat("`", ids[i], "`"));
  std::string text = strJoin(quoted, ", ");
  if (ids.size() > shown)
    text += strCat(" and ", ids.size() - shown, " more");
  return text;
}

void markdownTallyRow(std::ostream &out, std::string_view name,
                      const Tally &t) {
  out << "| " << name << " | " << t.cases;
  for (Status s :
       {Status::Pass, Status::Fail, Status::Unsupported, Status::Error})
    out << " | " << t.count(s);
}

} // namespace

void printSummary(const Summary &summary, std::ostream &out) {
  tallyHeader(out, "op type");
  out << "\n";
  for (const auto &[op, t] : summary.byOp) {
    out << std::left << std::setw(kNameWidth) << op << std::right
        << std::setw(kNumberWidth) << t.cases;
    tallyColumns(out, t);
    out << "\n";
  }
  out << "\n";
  tallyHeader(out, "suite");
  out << std::setw(kNumberWidth) << "nomodel"
      << "   interpreter pass/fail/error\n";
  auto suiteRow = [&](const std::string &name, const Tally &t) {
    out << std::left << std::setw(kNameWidth) << name << std::right
        << std::setw(kNumberWidth) << t.cases;
    tallyColumns(out, t);
    out << std::setw(kNumberWidth) << t.count(Status::NoModel) << "   "
        << t.interpreterPass << "/" << t.interpreterFail << "/"
        << t.interpreterError << "\n";
  };
  for (const auto &[suite, t] : summary.bySuite)
    suiteRow(suite, t);
  suiteRow("all", summary.all);
  out << "\n";
  for (const auto &[suite, sup] : summary.supportedBySuite)
    out << suite << ": " << sup.pass << " of the " << sup.cases
        << " cases whose op types are all supported pass (" << std::fixed
        << std::setprecision(1)
        << 100.0 * sup.pass / std::max<int64_t>(sup.cases, 1) << "%)\n"
        << std::defaultfloat;
  out << "\nseconds per stage, summed over cases:";
  for (const auto &[stage, seconds] : summary.stageSeconds)
    out << " " << stage << " " << std::fixed << std::setprecision(1) << seconds
        << ";";
  out << " all " << summary.caseSeconds << "\n" << std::defaultfloat;
}

std::string markdownReport(const std::vector<CaseResult> &results,
                           const Summary &summary, const std::string &command) {
  std::ostringstream out;
  out << "# ONNX conformance\n\n"
      << "The ONNX backend test data that Debian's `libonnx-testdata` installs "
         "(`/usr/share/libonnx-testdata/data`), run by "
         "`nyx-onnx-conformance` (`tests/conformance/`). Each case's "
         "`model.onnx` is imported, compiled with the standard `-O2` "
         "pipeline (weights embedded), run in-process through the ORC JIT on "
         "every `test_data_set_N` and compared with its `output_N.pb`, with "
         "the tolerances of `onnx/backend/test/runner`: floats pass when "
         "`|got - expected| <= 1e-7 + 1e-3 * |expected|`, NaN equals NaN, "
         "integers and bools must be equal. The reference interpreter runs "
         "the imported module on the same data and is compared the same "
         "way; its results are listed apart.\n\n"
      << "A case is\n\n"
      << "- **pass**: every output of every data set matched;\n"
      << "- **fail**: an output differs (the first mismatch is listed), or "
         "the model returned an error status;\n"
      << "- **unsupported**: the importer refused the model as beyond what "
         "Nyx supports (an op type, an attribute value, a dtype, an opset), "
         "or the test data gives an input another shape than the model "
         "declares (Nyx compiles for static shapes); the reason is "
         "listed;\n"
      << "- **error**: any other import or compile error, or a crash or a "
         "timeout (each case runs in a process of its own): these are "
         "bugs;\n"
      << "- **no model file**: Debian's package leaves out the models of "
         "the `real` suite (they are downloads).\n\n"
      << "Shapes are static in Nyx. Where a model's shapes depend on an "
         "integer graph input (Reshape's `shape`, Slice's `starts`, a "
         "reduction's `axes`), the case is compiled for the value its test "
         "data gives that input, as a user binds it with "
         "`ImportOptions::inputValues`; those cases are listed under "
         "*Compiled with bound inputs*.\n\n"
      << "In the table per op type a case counts under every distinct op "
         "type of its model's graph, so a multi-node case (a "
         "pytorch-converted model, an `*_expanded` node test) appears in "
         "the row of each op it uses.\n\n"
      << "Generated by `" << command
      << "`; `tests/conformance/expected_passes.txt` lists the cases that "
         "pass (compiled and interpreter), which the `conformance` ctest "
         "checks.\n\n"
      << "To run it, build `nyx-onnx-conformance` and run `ctest -L "
         "conformance` (every suite, two cases at a time, checked against "
         "the list: a listed case that no longer passes fails the test), or "
         "the program itself with `--suite`, `--filter`, `--jobs` and "
         "`--verbose`. After a change that makes more cases pass, "
         "`--expected tests/conformance/expected_passes.txt "
         "--update-expected --report docs/onnx-conformance.md` updates the "
         "list and this page.\n\n";

  out << "## Totals per suite\n\n"
      << "| suite | cases | pass | fail | unsupported | error | no model "
         "file | interpreter pass | interpreter fail | interpreter error |\n"
      << "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
         "---: |\n";
  auto suiteRow = [&](const std::string &name, const Tally &t) {
    markdownTallyRow(out, name, t);
    out << " | " << t.count(Status::NoModel) << " | " << t.interpreterPass
        << " | " << t.interpreterFail << " | " << t.interpreterError << " |\n";
  };
  for (const auto &[suite, t] : summary.bySuite)
    suiteRow(suite, t);
  suiteRow("**all**", summary.all);
  out << "\nThe cases whose op types all have a converter, whatever their "
         "dtypes, attributes and shapes, and how many of them pass:\n\n"
      << "| suite | cases with supported op types | pass | share |\n"
      << "| --- | ---: | ---: | ---: |\n";
  for (const auto &[suite, sup] : summary.supportedBySuite)
    out << "| " << suite << " | " << sup.cases << " | " << sup.pass << " | "
        << std::fixed << std::setprecision(1)
        << 100.0 * sup.pass / std::max<int64_t>(sup.cases, 1) << "% |\n"
        << std::defaultfloat;

  out << "\n## Per op type\n\n"
      << "| op type | cases | pass | fail | unsupported | error | "
         "interpreter fail or error |\n"
      << "| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n";
  for (const auto &[op, t] : summary.byOp) {
    markdownTallyRow(out, strCat("`", op, "`"), t);
    out << " | " << t.interpreterFail + t.interpreterError << " |\n";
  }

  std::map<std::string, std::vector<std::string>> unsupported;
  for (const CaseResult &r : results)
    if (r.status == Status::Unsupported)
      unsupported[unsupportedReason(r.message)].push_back(r.testCase.id());
  out << "\n## Unsupported, by reason\n\n";
  if (unsupported.empty())
    out << "None.\n";
  else
    out << "| reason | cases | which |\n| --- | ---: | --- |\n";
  for (const auto &[reason, ids] : unsupported)
    out << "| " << cell(reason) << " | " << ids.size() << " | " << caseList(ids)
        << " |\n";

  auto listCases = [&](std::string_view title, auto keep, auto message) {
    out << "\n## " << title << "\n\n";
    int n = 0;
    for (const CaseResult &r : results) {
      if (!keep(r))
        continue;
      if (n++ == 0)
        out << "| case | what happened |\n| --- | --- |\n";
      out << "| `" << r.testCase.id() << "` | " << cell(message(r)) << " |\n";
    }
    if (n == 0)
      out << "None.\n";
  };
  listCases(
      "Compiled with bound inputs",
      [](const CaseResult &r) { return !r.boundInputs.empty(); },
      [](const CaseResult &r) {
        return strCat(statusName(r.status),
                      "; bound: ", strJoin(r.boundInputs, ", "));
      });
  listCases(
      "Failures", [](const CaseResult &r) { return r.status == Status::Fail; },
      [](const CaseResult &r) { return r.message; });
  listCases(
      "Errors", [](const CaseResult &r) { return r.status == Status::Error; },
      [](const CaseResult &r) { return r.message; });
  listCases(
      "Interpreter failures and errors",
      [](const CaseResult &r) {
        return r.interpreter == InterpreterStatus::Fail ||
               r.interpreter == InterpreterStatus::Error;
      },
      [](const CaseResult &r) {
        return strCat(interpreterStatusName(r.interpreter), ": ",
                      r.interpreterMessage);
      });
  return out.str();
}

} // namespace nyx::conformance

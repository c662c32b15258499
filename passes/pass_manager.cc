#include "passes/pass_manager.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "ir/printer.h"
#include "ir/status_macros.h"
#include "ir/strings.h"
#include "ir/verifier.h"

namespace nyx::passes {

static std::string knownPasses() {
  std::vector<std::string_view> names;
  for (const PassInfo &p : allPasses())
    names.push_back(p.name);
  return strJoin(names, ", ");
}

static std::string knownOptions(const PassInfo &pass) {
  if (pass.options.empty())
    return strCat("pass '", pass.name, "' takes no options");
  std::vector<std::string> names;
  for (const PassOption &o : pass.options)
    names.push_back(strCat(o.name, " (", o.summary, ")"));
  return strCat("options of '", pass.name, "': ", strJoin(names, ", "));
}

// Splits "a,b{x=1,y=2},c" at the commas outside braces.
static absl::StatusOr<std::vector<std::string_view>>
splitPipeline(std::string_view pipeline) {
  std::vector<std::string_view> pieces;
  size_t start = 0;
  int depth = 0;
  for (size_t i = 0; i <= pipeline.size(); ++i) {
    char c = i < pipeline.size() ? pipeline[i] : ',';
    if (c == '{' && ++depth > 1)
      return absl::InvalidArgumentError(
          strCat("nested '{' in the pipeline '", pipeline,
                 "'; expected pass{key=value,...}"));
    if (c == '}' && --depth < 0)
      return absl::InvalidArgumentError(
          strCat("unmatched '}' in the pipeline '", pipeline, "'"));
    if (c == ',' && depth == 0) {
      pieces.push_back(pipeline.substr(start, i - start));
      start = i + 1;
    }
  }
  if (depth != 0)
    return absl::InvalidArgumentError(
        strCat("unclosed '{' in the pipeline '", pipeline, "'"));
  return pieces;
}

static std::string_view trim(std::string_view s) {
  absl::string_view t =
      absl::StripAsciiWhitespace(absl::string_view(s.data(), s.size()));
  return std::string_view(t.data(), t.size());
}

// Pass options are integers; the text must be one, whole.
static std::optional<int64_t> parseInteger(std::string_view text) {
  int64_t value = 0;
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size())
    return std::nullopt;
  return value;
}

absl::StatusOr<PassManager> PassManager::parse(std::string_view pipeline) {
  PassManager pm;
  NYX_ASSIGN_OR_RETURN(std::vector<std::string_view> pieces,
                       splitPipeline(pipeline));
  for (std::string_view piece : pieces) {
    piece = trim(piece);
    if (piece.empty())
      continue;
    size_t brace = piece.find('{');
    std::string name(trim(piece.substr(0, brace)));
    const PassInfo *pass = lookupPass(name);
    if (!pass)
      return absl::InvalidArgumentError(
          strCat("unknown pass '", name,
                 "' in the pipeline; known passes: ", knownPasses()));
    Step step{pass, {}};
    if (brace != std::string_view::npos) {
      if (piece.back() != '}')
        return absl::InvalidArgumentError(
            strCat("text after the options of pass '", name,
                   "'; expected pass{key=value,...}"));
      std::string_view body = piece.substr(brace + 1, piece.size() - brace - 2);
      for (absl::string_view kv :
           absl::StrSplit(absl::string_view(body.data(), body.size()), ',',
                          absl::SkipWhitespace())) {
        size_t eq = kv.find('=');
        std::string key(
            trim(std::string_view(kv.data(), kv.size()).substr(0, eq)));
        if (eq == absl::string_view::npos || key.empty())
          return absl::InvalidArgumentError(strCat("option '", std::string(kv),
                                                   "' of pass '", name,
                                                   "' is not key=value"));
        bool known = false;
        for (const PassOption &o : pass->options)
          known |= o.name == key;
        if (!known)
          return absl::InvalidArgumentError(strCat("unknown option '", key,
                                                   "' of pass '", name, "'; ",
                                                   knownOptions(*pass)));
        std::string value(
            trim(std::string_view(kv.data(), kv.size()).substr(eq + 1)));
        if (!parseInteger(value))
          return absl::InvalidArgumentError(
              strCat("option ", key, "=", value, " of pass '", name,
                     "' is not an integer; expected e.g. ", key, "=4096"));
        if (!step.args.emplace(key, std::move(value)).second)
          return absl::InvalidArgumentError(
              strCat("option '", key, "' of pass '", name, "' is given twice"));
      }
    }
    pm.steps_.push_back(std::move(step));
  }
  return pm;
}

absl::StatusOr<int64_t> Options::intArg(std::string_view name,
                                        int64_t dflt) const {
  auto it = args.find(name);
  if (it == args.end())
    return dflt;
  // PassManager::parse accepted only integers.
  std::optional<int64_t> value = parseInteger(it->second);
  if (!value)
    return absl::InvalidArgumentError(
        strCat("pass option ", name, "=", it->second, " is not an integer"));
  return *value;
}

const ir::Tensor *Options::knownValue(const ir::Op &op) const {
  const ir::Tensor *value = nullptr;
  if (op.name() == "constant") {
    auto t = op.getTensor("value");
    if (t.ok() && *t)
      value = t->get();
  } else if (op.name() == "param" && weights) {
    auto name = op.getSymbol("name");
    if (!name.ok())
      return nullptr;
    auto it = weights->find(*name);
    if (it != weights->end())
      value = &it->second;
  }
  return value && value->type() == op.result()->type ? value : nullptr;
}

absl::StatusOr<ir::Function *> entryFunction(ir::Module &m, const Options &o) {
  if (o.entry.empty())
    return m.entry();
  ir::Function *f = m.lookupFunction(o.entry);
  if (!f)
    return absl::InvalidArgumentError(strCat("no function @", o.entry));
  return f;
}

absl::StatusOr<int64_t>
rewriteOpsWithKnownOperand(ir::Module &m, const Options &o, int operand,
                           const std::function<bool(const ir::Op &)> &qualifies,
                           const RewriteFn &rewrite) {
  int64_t changed = 0;
  for (auto &fn : m.functions) {
    if (fn->isKernel)
      continue;
    for (size_t pos = 0; pos < fn->ops.size();) {
      const ir::Op &op = *fn->ops[pos];
      const ir::Op *def = qualifies(op) && op.numOperands() > operand
                              ? op.operand(operand)->definingOp
                              : nullptr;
      const ir::Tensor *value = def ? o.knownValue(*def) : nullptr;
      if (!value) {
        ++pos;
        continue;
      }
      auto next = rewrite(*fn, pos, *value);
      if (!next.ok())
        return next.status();
      pos = *next;
      ++changed;
    }
  }
  return changed;
}

std::string PassManager::str() const {
  std::vector<std::string> pieces;
  for (const Step &step : steps_) {
    std::string piece(step.pass->name);
    if (!step.args.empty()) {
      std::vector<std::string> kvs;
      for (const auto &[key, value] : step.args)
        kvs.push_back(strCat(key, "=", value));
      piece += "{" + strJoin(kvs, ",") + "}";
    }
    pieces.push_back(std::move(piece));
  }
  return strJoin(pieces, ",");
}

absl::Status checkPassNames(const std::set<std::string, std::less<>> &names) {
  for (const std::string &name : names)
    if (!lookupPass(name))
      return absl::InvalidArgumentError(
          strCat("unknown pass '", name, "'; known passes: ", knownPasses()));
  return absl::OkStatus();
}

absl::Status prepareDumpDir(const std::string &dir) {
  if (dir.empty())
    return absl::InvalidArgumentError(
        "the dump directory is empty; expected a directory name");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return absl::InvalidArgumentError(
        strCat("cannot create the dump directory '", dir, "': ", ec.message(),
               "; expected a writable directory"));
  // Permissions, read-only mounts and the like only show on a real write.
  std::string probe = strCat(dir, "/.nyx-dump-probe.", ::getpid());
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return absl::InvalidArgumentError(
        strCat("cannot write in the dump directory '", dir,
               "': ", std::strerror(errno), "; expected a writable directory"));
  ::close(fd);
  ::unlink(probe.c_str());
  return absl::OkStatus();
}

// Writes the module to DIR/NN-<name>.nyx; NN has at least two digits and as
// many as the last step needs, so the files sort in pipeline order.
static absl::Status dumpModule(const std::string &dir, size_t step,
                               size_t lastStep, std::string_view name,
                               const ir::Module &m) {
  int width = std::max<int>(2, std::to_string(lastStep).size());
  std::string number = std::to_string(step);
  number.insert(0, width - std::min<int>(width, number.size()), '0');
  std::string path = strCat(dir, "/", number, "-", name, ".nyx");
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << ir::printModule(m);
  out.close();
  if (!out)
    return absl::InternalError(strCat("cannot write the IR dump '", path,
                                      "': ", std::strerror(errno)));
  return absl::OkStatus();
}

static void printModuleAround(std::ostream &out, std::string_view when,
                              std::string_view pass, const ir::Module &m) {
  out << "// ----- IR Dump " << when << " " << pass << " -----\n"
      << ir::printModule(m) << "\n";
}

absl::Status PassManager::run(ir::Module &m, const Options &options,
                              const Instrumentation &inst) const {
  std::ostream &out = inst.out ? *inst.out : std::cerr;
  using Clock = std::chrono::steady_clock;
  std::vector<std::pair<std::string_view, double>> times;
  if (!inst.dumpDir.empty()) {
    NYX_RETURN_IF_ERROR(prepareDumpDir(inst.dumpDir));
    NYX_RETURN_IF_ERROR(dumpModule(inst.dumpDir, 0, steps_.size(), "input", m));
  }
  for (size_t index = 0; index < steps_.size(); ++index) {
    const Step &step = steps_[index];
    const PassInfo *pass = step.pass;
    Options passOptions = options;
    passOptions.args = step.args;
    if (inst.printBeforeAll || inst.printBefore.count(pass->name))
      printModuleAround(out, "Before", pass->name, m);
    auto start = Clock::now();
    absl::Status status = pass->run(m, passOptions);
    times.emplace_back(
        pass->name,
        std::chrono::duration<double>(Clock::now() - start).count());
    if (!status.ok())
      return status;
    // Written before verification, so a module a pass broke can be read.
    if (!inst.dumpDir.empty())
      NYX_RETURN_IF_ERROR(
          dumpModule(inst.dumpDir, index + 1, steps_.size(), pass->name, m));
    if (inst.verifyEach) {
      if (absl::Status v = ir::verifyModule(m); !v.ok())
        return absl::InternalError(strCat("the module is invalid after pass '",
                                          pass->name, "': ", v.message()));
    }
    if (inst.printAfterAll || inst.printAfter.count(pass->name))
      printModuleAround(out, "After", pass->name, m);
  }
  if (inst.timePasses) {
    double total = 0;
    for (auto &[name, secs] : times)
      total += secs;
    out << "===" << std::string(60, '-') << "===\n"
        << "  Pass execution timing report\n"
        << "===" << std::string(60, '-') << "===\n"
        << "  Total: " << std::fixed << std::setprecision(4) << total
        << " s\n\n   Wall time  Pct    Name\n";
    for (auto &[name, secs] : times)
      out << "  " << std::setw(9) << secs << " s " << std::setw(5)
          << std::setprecision(1) << (total > 0 ? 100 * secs / total : 0)
          << "%  " << name << std::setprecision(4) << "\n";
  }
  return absl::OkStatus();
}

} // namespace nyx::passes

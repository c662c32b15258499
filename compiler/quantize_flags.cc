#include "compiler/quantize_flags.h"

#include "compiler/compilation.h"
#include "ir/strings.h"
#include "passes/calibration.h"

namespace nyx::compiler {

void addQuantizeFlags(CommandLine &cl, CompileOptions &o) {
  QuantizeOptions &q = o.quantize;
  cl.option("quantize", "<mode>",
            "quantize matmuls with compile-time weights to int8 (per-column "
            "weight scales): dynamic (activation scales computed on every "
            "run) or int8 (activation ranges from --calibrate or "
            "--quant-profile)",
            [&q](std::string_view v) {
              if (v != "dynamic" && v != "int8")
                return absl::InvalidArgumentError(
                    strCat("--quantize=", v,
                           " is not a quantization mode; expected dynamic or "
                           "int8"));
              q.mode = v;
              return absl::OkStatus();
            });
  cl.option("calibrate", "<data>",
            "measure activation ranges by running the model on these inputs: "
            "a directory of .npy files or a safetensors file",
            [&q](std::string_view v) {
              q.calibrationData = v;
              return absl::OkStatus();
            });
  cl.option("calibration-observer", "<observer>",
            "how a range is chosen from the values seen: minmax (default), "
            "percentile or entropy",
            [&q](std::string_view v) -> absl::Status {
              if (auto s = passes::parseRangeObserver(v); !s.ok())
                return s.status();
              q.observer = v;
              return absl::OkStatus();
            });
  cl.option("calibration-percentile", "<p>",
            "the percentile observer's range (default 99.99: from the "
            "0.01th to the 99.99th percentile)",
            [&q](std::string_view v) -> absl::Status {
              auto p = parseNumber(v);
              if (!p.ok() || *p <= 50 || *p > 100)
                return absl::InvalidArgumentError(
                    strCat("--calibration-percentile=", v,
                           "; expected a number above 50 and at most 100"));
              q.percentile = *p;
              return absl::OkStatus();
            });
  cl.option("quant-profile", "<file.json>",
            "activation ranges from this profile (written by "
            "--emit=quant-profile) instead of calibrating",
            [&q](std::string_view v) {
              q.profilePath = v;
              return absl::OkStatus();
            });
  cl.option("quant-activations", "<kind>",
            "int8 activations: asymmetric (default: a zero point, the range "
            "in 255 steps) or symmetric (zero point 0)",
            [&q](std::string_view v) {
              if (v != "asymmetric" && v != "symmetric")
                return absl::InvalidArgumentError(
                    strCat("--quant-activations=", v,
                           "; expected asymmetric or symmetric"));
              q.symmetric = v == "symmetric";
              return absl::OkStatus();
            });
  cl.option("quantize-exclude", "<a,b,...>",
            "keep these matmuls (by result name) in f32 with --quantize=int8",
            [&q](std::string_view v) {
              std::set<std::string, std::less<>> names;
              splitList(v, names);
              for (const std::string &name : names)
                q.exclude.insert(name.front() == '%' ? name.substr(1) : name);
              return absl::OkStatus();
            });
}

absl::Status applyQuantizeFlags(CompileOptions &o) {
  const QuantizeOptions &q = o.quantize;
  const bool int8 = q.mode == "int8";
  const bool int8Flags = !q.calibrationData.empty() || !q.profilePath.empty() ||
                         !q.exclude.empty() || q.symmetric ||
                         o.emit == Emit::QuantProfile;
  const bool observerFlags = !q.observer.empty() || q.percentile.has_value();
  if ((int8Flags || observerFlags) && !int8)
    return absl::InvalidArgumentError(
        "--calibrate, --calibration-observer, --calibration-percentile, "
        "--quant-profile, --quant-activations, --quantize-exclude and "
        "--emit=quant-profile apply to --quantize=int8");
  // An observer setting that would be ignored is a mistake in the command.
  if (observerFlags && q.calibrationData.empty())
    return absl::InvalidArgumentError(
        "--calibration-observer and --calibration-percentile apply to "
        "--calibrate; a --quant-profile holds measured ranges");
  if (q.percentile && q.observer != "percentile")
    return absl::InvalidArgumentError(
        "--calibration-percentile applies to --calibration-observer="
        "percentile");
  if (int8 && q.calibrationData.empty() == q.profilePath.empty())
    return absl::InvalidArgumentError(
        q.profilePath.empty()
            ? "--quantize=int8 needs activation ranges: --calibrate=DATA or "
              "--quant-profile=FILE"
            : "--calibrate and --quant-profile both give the activation "
              "ranges; expected one of them");
  if (q.mode.empty())
    return absl::OkStatus();
  if (!o.pipeline.empty() || o.train.enabled)
    return absl::InvalidArgumentError(
        strCat("--quantize changes the standard pipeline; ",
               o.train.enabled ? "it does not apply to --train"
                               : "with --passes, add the quantize pass and "
                                 "const-fold to the pipeline"));
  const std::string pass =
      int8 ? strCat("quantize-int8{symmetric=", q.symmetric ? 1 : 0, "}")
           : "quantize-dynamic{strict=1}";
  o.pipeline = quantizedPipeline(standardPipeline(o.optLevel, o.target), pass);
  return absl::OkStatus();
}

} // namespace nyx::compiler

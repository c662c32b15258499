#include "compiler/train_flags.h"

#include <charconv>
#include <cmath>
#include <cstdint>

#include "ir/strings.h"

namespace nyx::compiler {
namespace {

// A non-negative integer (at most 2^31 - 1), or an error saying `expected`.
absl::StatusOr<int64_t> parseCount(std::string_view text,
                                   std::string_view expected) {
  int64_t value = 0;
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
      value < 0 || value > INT32_MAX)
    return absl::InvalidArgumentError(
        strCat("'", text, "'; expected ", expected));
  return value;
}

} // namespace

void addTrainFlags(CommandLine &cl, CompileOptions &o) {
  cl.flag("train",
          "also compile <name>_train_step (needs --loss and --optimizer) and "
          "<name>_init_params; the parameters become arguments",
          [&o] { o.train.enabled = true; });
  cl.option("loss", "<name>",
            "the training loss: mse, l1, huber, cross-entropy, bce, focal, "
            "kl-div, cosine-embedding, triplet-margin",
            [&o](std::string_view v) {
              o.train.loss = v;
              return absl::OkStatus();
            });
  cl.option("optimizer", "<name>",
            "the training optimizer: sgd, adam, adamw, rmsprop, adagrad, "
            "lion, lamb",
            [&o](std::string_view v) {
              o.train.optimizer = v;
              return absl::OkStatus();
            });
  static constexpr std::pair<std::string_view, std::string_view> kHyper[] = {
      {"momentum", "SGD/RMSprop momentum"},
      {"weight-decay", "weight decay (L2, or decoupled for adamw and lion)"},
      {"clip-norm", "clip the gradients to this global L2 norm (0: off)"},
      {"beta1", "Adam/AdamW/LAMB/Lion beta1"},
      {"beta2", "Adam/AdamW/LAMB/Lion beta2"},
      {"eps", "the optimizer's epsilon"},
      {"alpha", "RMSprop smoothing constant"},
      {"label-smoothing", "cross-entropy label smoothing, in [0, 1]"},
      {"loss-scale", "multiply the loss by this before differentiating and "
                     "divide the gradients after (mixed precision)"},
  };
  for (auto [name, help] : kHyper)
    cl.option(std::string(name), "<number>", std::string(help),
              [&o, name](std::string_view v) -> absl::Status {
                auto value = parseNumber(v);
                if (!value.ok())
                  return value.status();
                o.train.hyper[std::string(name)] = *value;
                return absl::OkStatus();
              });
  cl.flag("nesterov", "SGD with Nesterov momentum",
          [&o] { o.train.nesterov = true; });
  cl.option("compute-type", "f32|bf16|f16",
            "mixed precision: compute the training step's forward and "
            "backward passes in this dtype, with f32 master weights",
            [&o](std::string_view v) -> absl::Status {
              if (v != "f32" && v != "bf16" && v != "f16")
                return absl::InvalidArgumentError(
                    strCat("'", v, "'; expected f32, bf16 or f16"));
              o.train.computeType = v;
              return absl::OkStatus();
            });
  cl.option("init", "kaiming|xavier",
            "how <name>_init_params draws weights (default kaiming)",
            [&o](std::string_view v) -> absl::Status {
              if (v != "kaiming" && v != "xavier")
                return absl::InvalidArgumentError(
                    strCat("'", v, "'; expected kaiming or xavier"));
              o.train.init = v;
              return absl::OkStatus();
            });
  cl.option("remat", "none|auto|all",
            "training step: recompute activations in the backward pass "
            "instead of keeping them (auto: cheap ops; all: any op)",
            [&o](std::string_view v) -> absl::Status {
              if (v != "none" && v != "auto" && v != "all")
                return absl::InvalidArgumentError(
                    strCat("'", v, "'; expected none, auto or all"));
              o.train.remat = v;
              return absl::OkStatus();
            });
  cl.option(
      "derivative", "grad|jacobian|hessian|hvp",
      "compile a derivative of the entry function instead of it "
      "(see docs/autodiff.md)",
      [&o](std::string_view v) -> absl::Status {
        static constexpr std::pair<std::string_view, Derivative> kinds[] = {
            {"grad", Derivative::Grad},
            {"jacobian", Derivative::Jacobian},
            {"hessian", Derivative::Hessian},
            {"hvp", Derivative::Hvp}};
        for (auto [name, kind] : kinds)
          if (name == v) {
            o.derivative = kind;
            return absl::OkStatus();
          }
        return absl::InvalidArgumentError(
            strCat("'", v, "'; expected grad, jacobian, hessian or hvp"));
      });
  cl.flag("gradcheck",
          "check the entry's gradient with respect to every float input and "
          "param against finite differences (f64, random inputs; the "
          "params' values from --weights when given) instead of compiling",
          [&o] { o.gradcheck = true; });
  cl.option("gradcheck-elements", "<n>",
            "elements checked per tensor by --gradcheck (default 32; 0: all)",
            [&o](std::string_view v) -> absl::Status {
              auto n = parseCount(v, "a count (0 checks every element)");
              if (!n.ok())
                return n.status();
              o.gradcheckElements = *n;
              return absl::OkStatus();
            });
  cl.option("wrt-input", "<index>",
            "the input (by position) --derivative=jacobian|hessian|hvp "
            "differentiates by (default 0)",
            [&o](std::string_view v) -> absl::Status {
              auto n = parseCount(v, "an input position (0, 1, ...)");
              if (!n.ok())
                return n.status();
              o.derivativeInput = static_cast<int>(*n);
              return absl::OkStatus();
            });
}

} // namespace nyx::compiler

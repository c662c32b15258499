#include "codegen/cpu/vector_math.h"

#include <string>
#include <vector>

namespace nyx::codegen::cpu {
namespace {

struct MathFunction {
  const char *f32, *f64; // the scalar libm names (f32 null: never called)
  const char *intrinsic; // the LLVM intrinsic's stem ("" for none)
  int args;
};

// The libm functions generated kernels call; libmvec has each in SSE
// ('b'), AVX2 ('d') and AVX-512 ('e') widths. f32 exp, log, erf and tanh
// are Nyx's own (fast_math.h), so they have no f32 entry.
constexpr MathFunction kFunctions[] = {
    {nullptr, "exp", "exp", 1}, {nullptr, "log", "log", 1},
    {"powf", "pow", "pow", 2},  {nullptr, "erf", "", 1},
    {nullptr, "tanh", "", 1},   {"log1pf", "log1p", "", 1},
    {"sinf", "sin", "sin", 1},  {"cosf", "cos", "cos", 1},
    {"tanf", "tan", "", 1},     {"asinf", "asin", "", 1},
    {"acosf", "acos", "", 1},   {"atanf", "atan", "", 1},
    {"sinhf", "sinh", "", 1},   {"coshf", "cosh", "", 1},
    {"asinhf", "asinh", "", 1}, {"acoshf", "acosh", "", 1},
    {"atanhf", "atanh", "", 1},
};

struct Isa {
  char letter;
  int f32Lanes;
};
constexpr Isa kIsas[] = {{'b', 4}, {'d', 8}, {'e', 16}}; // SSE, AVX2, AVX-512

} // namespace

void addVectorMathLibrary(llvm::TargetLibraryInfoImpl &info,
                          const llvm::Triple &triple, bool hasAvx2,
                          bool hasAvx512) {
  if (!triple.isX86() || !triple.isOSLinux() || !triple.isArch64Bit())
    return;
  // VecDesc keeps StringRefs, so the names live as long as the process.
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const MathFunction &f : kFunctions)
      for (const Isa &isa : kIsas)
        for (int wide = 0; wide < 2; ++wide) {
          if (!wide && !f.f32)
            continue;
          int lanes = wide ? isa.f32Lanes / 2 : isa.f32Lanes;
          std::string params(f.args, 'v');
          const char *scalar = wide ? f.f64 : f.f32;
          n.push_back(std::string("_ZGV") + isa.letter + "N" +
                      std::to_string(lanes) + params + "_" + scalar);
          n.push_back("_ZGV_LLVM_N" + std::to_string(lanes) + params);
          n.push_back(scalar);
          n.push_back(*f.intrinsic ? std::string("llvm.") + f.intrinsic +
                                         (wide ? ".f64" : ".f32")
                                   : std::string());
        }
    return n;
  }();
  std::vector<llvm::VecDesc> descs;
  for (size_t i = 0; i < names.size(); i += 4) {
    char isa = names[i][4]; // _ZGV<isa>...
    if ((isa == 'd' && !hasAvx2) || (isa == 'e' && !hasAvx512))
      continue;
    unsigned lanes = std::stoi(names[i + 1].substr(11));
    auto vf = llvm::ElementCount::getFixed(lanes);
    descs.emplace_back(names[i + 2], names[i], vf, false, names[i + 1]);
    if (!names[i + 3].empty())
      descs.emplace_back(names[i + 3], names[i], vf, false, names[i + 1]);
  }
  info.addVectorizableFunctions(descs);
}

} // namespace nyx::codegen::cpu

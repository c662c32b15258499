// Everything a compilation can be asked to do; filled by the nyxc command
// line (tools/nyxc.cc) or by a program that embeds the compiler.
#pragma once

#include <string>

#include "passes/pass_manager.h"

namespace nyx::compiler {

enum class Emit { IR, Json, Kernels, LLVM, Asm, Obj };

struct CompileOptions {
  std::string input;      // .nyx (text IR) or .json (IR as JSON)
  std::string output;     // "-" is stdout; "" picks a default from the input
  std::string headerPath; // "" = next to the object, with .h
  Emit emit = Emit::Obj;
  std::string target = "host";
  int optLevel = 2;
  std::string weightsPath;      // safetensors with the module's params
  bool externalWeights = false; // load weights at run time, not embedded
  std::string weightsOut;       // external mode: where to write the weights
  std::string entry;            // function to compile ("" = @main or only)
  std::string modelName;        // symbol prefix ("" = module name)
  std::string pipeline;         // "" = the standard pipeline for optLevel
  passes::Instrumentation instrumentation;
};

} // namespace nyx::compiler

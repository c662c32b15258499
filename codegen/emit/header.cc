#include "codegen/emit/header.h"

#include <cctype>
#include <sstream>

#include "ir/strings.h"

namespace nyx::codegen {
namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  for (char &c : out)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// A C array cannot be empty, so a rank-0 tensor's shape is written {1}
// (its RANK macro is 0).
std::string shapeInitializer(const ir::Shape &shape) {
  if (shape.empty())
    return "{1}";
  return strCat("{", strJoin(shape, ", "), "}");
}

void tensorMacros(std::ostringstream &os, const std::string &prefix,
                  const TensorInfo &t) {
  os << "#define " << prefix << "_RANK " << t.type.rank() << "\n";
  os << "#define " << prefix << "_SHAPE " << shapeInitializer(t.type.shape)
     << "\n";
  os << "#define " << prefix << "_DTYPE " << cDTypeEnum(t.type.dtype) << "\n";
  os << "#define " << prefix << "_ELEMENTS " << t.type.numElements() << "\n";
  os << "#define " << prefix << "_BYTES " << t.type.byteSize() << "\n";
}

std::string typeText(const ir::TensorType &t) {
  return strCat(ir::dtypeName(t.dtype), "[", ir::shapeString(t.shape), "]");
}

} // namespace

std::string_view cElementType(ir::DType t) {
  switch (t) {
  case ir::DType::F32:
    return "float";
  case ir::DType::F64:
    return "double";
  case ir::DType::F16:
  case ir::DType::BF16:
    return "uint16_t";
  case ir::DType::I8:
    return "int8_t";
  case ir::DType::I32:
    return "int32_t";
  case ir::DType::I64:
    return "int64_t";
  case ir::DType::Bool:
    return "uint8_t";
  }
  return "void";
}

std::string_view cDTypeEnum(ir::DType t) {
  switch (t) {
  case ir::DType::F32:
    return "NYX_F32";
  case ir::DType::F16:
    return "NYX_F16";
  case ir::DType::BF16:
    return "NYX_BF16";
  case ir::DType::F64:
    return "NYX_F64";
  case ir::DType::I8:
    return "NYX_I8";
  case ir::DType::I32:
    return "NYX_I32";
  case ir::DType::I64:
    return "NYX_I64";
  case ir::DType::Bool:
    return "NYX_BOOL";
  }
  return "NYX_F32";
}

std::string runPrototype(const ModelPlan &plan) {
  std::vector<std::string> params;
  for (const TensorInfo &t : plan.inputs)
    params.push_back(strCat(t.updated ? "" : "const ",
                            cElementType(t.type.dtype), " *", t.paramName));
  for (const TensorInfo &t : plan.outputs)
    if (t.inputAlias < 0)
      params.push_back(strCat(cElementType(t.type.dtype), " *", t.paramName));
  params.push_back("void *arena");
  return strCat("int ", plan.runName, "(", strJoin(params, ", "), ")");
}

namespace {

// The comment describing one entry point.
void describeEntry(std::ostringstream &os, const ModelPlan &plan) {
  const std::string N = upper(plan.name);
  os << " * " << plan.runName << ":\n";
  os << " *   Inputs:\n";
  for (const TensorInfo &t : plan.inputs)
    os << " *     " << t.paramName << ": " << typeText(t.type)
       << (t.updated ? " (updated in place)" : "") << "\n";
  if (plan.inputs.empty())
    os << " *     (none)\n";
  os << " *   Outputs:\n";
  for (const TensorInfo &t : plan.outputs) {
    if (t.inputAlias >= 0)
      os << " *     " << t.paramName << ": written over "
         << plan.inputs[t.inputAlias].paramName << "\n";
    else
      os << " *     " << t.paramName << ": " << typeText(t.type) << "\n";
  }
  os << " *   It reads the inputs and writes the outputs (buffers must not "
        "overlap),\n"
     << " *   using " << N << "_ARENA_BYTES of scratch memory aligned to " << N
     << "_ALIGN bytes.\n";
}

void entryMacros(std::ostringstream &os, const ModelPlan &plan) {
  const std::string N = upper(plan.name);
  os << "#define " << N << "_NUM_INPUTS " << plan.inputs.size() << "\n";
  os << "#define " << N << "_NUM_OUTPUTS " << plan.outputs.size() << "\n\n";
  for (const TensorInfo &t : plan.inputs) {
    tensorMacros(os, strCat(N, "_INPUT_", t.macroName), t);
    os << "\n";
  }
  for (const TensorInfo &t : plan.outputs) {
    tensorMacros(os, strCat(N, "_OUTPUT_", t.macroName), t);
    os << "\n";
  }
  // The byte size of every argument of the run before the arena, in order
  // (for callers that allocate the buffers of _packed in a loop).
  std::vector<uint64_t> bytes;
  for (const TensorInfo &t : plan.inputs)
    bytes.push_back(t.type.byteSize());
  for (const TensorInfo &t : plan.outputs)
    if (t.inputAlias < 0)
      bytes.push_back(t.type.byteSize());
  os << "#define " << N << "_NUM_BUFFERS " << bytes.size() << "\n";
  os << "#define " << N << "_BUFFER_BYTES {" << strJoin(bytes, ", ") << "}\n";
  os << "#define " << N << "_WEIGHTS_BYTES " << plan.weightsBytes << "\n";
  os << "#define " << N << "_ARENA_BYTES " << plan.arenaBytes << "\n";
  os << "#define " << N << "_ALIGN 64\n\n";
}

void entryDeclarations(std::ostringstream &os, const ModelPlan &plan) {
  const std::string &n = plan.name;
  const std::string N = upper(n);
  os << runPrototype(plan) << ";\n";
  os << "/* For callers that bind the model at run time: buffers[] holds the "
        "arguments\n * before the arena, in the order of "
     << plan.runName << ". */\n";
  os << "int " << plan.runName << "_packed(void **buffers, void *arena);\n";
  os << "/* " << N << "_ARENA_BYTES and " << N
     << "_WEIGHTS_BYTES as data, for dlsym. */\n";
  os << "extern const uint64_t " << n << "_arena_bytes;\n";
  os << "extern const uint64_t " << n << "_weights_bytes;\n";
  if (plan.externalWeights) {
    os << "\n/* Reads the weights from a safetensors file; returns NYX_OK or "
          "the status of\n * nyx_load_weights. Until it succeeds, "
       << plan.runName << " returns NYX_ERR_WEIGHTS_NOT_LOADED. */\n";
    os << "int " << n << "_load_weights(const char *path);\n";
    os << "/* Frees the loaded weights. */\n";
    os << "void " << n << "_unload_weights(void);\n";
  }
  os << "\n";
}

} // namespace

std::string emitHeader(const ModelPlan &plan) {
  return emitHeader(plan.name, {&plan}, {});
}

std::string emitHeader(std::string_view objectName,
                       const std::vector<const ModelPlan *> &plans,
                       const HeaderExtras &extras) {
  const std::string N = upper(objectName);
  std::ostringstream os;
  os << "/* " << objectName << ".h: the C interface of the compiled model '"
     << objectName << "' (generated by nyxc; see docs/abi.md).\n *\n";
  for (const ModelPlan *plan : plans)
    describeEntry(os, *plan);
  os << extras.comment;
  os << " * Each entry point returns NYX_OK or an error status that "
        "nyx_status_string names.\n";
  for (const ModelPlan *plan : plans) {
    if (plan->externalWeights)
      os << " * Weights (" << plan->weightsBytes << " bytes) are read from a "
         << "safetensors file by " << plan->name << "_load_weights\n"
         << " * before the first run.\n";
    else if (plan->weightsBytes > 0)
      os << " * Weights (" << plan->weightsBytes << " bytes) are embedded in "
         << "the object.\n";
  }
  os << " * Link with libnyxrt and -lm. */\n";
  os << "#ifndef NYX_MODEL_" << N << "_H\n#define NYX_MODEL_" << N << "_H\n\n";
  os << "#include <stdint.h>\n#include <nyx/runtime.h>\n\n";
  for (const ModelPlan *plan : plans)
    entryMacros(os, *plan);
  os << extras.macros;
  os << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n";
  for (const ModelPlan *plan : plans)
    entryDeclarations(os, *plan);
  os << extras.declarations;
  os << "#ifdef __cplusplus\n}\n#endif\n\n#endif /* NYX_MODEL_" << N
     << "_H */\n";
  return os.str();
}

} // namespace nyx::codegen

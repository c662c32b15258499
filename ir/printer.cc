#include "ir/printer.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "ir/half.h"
#include "ir/lexer.h"
#include "ir/op_registry.h"
#include "ir/strings.h"

namespace nyx::ir {

// Makes shortest round-trip text read back as a float: "100" -> "100.0".
static std::string withFloatMarker(std::string s) {
  if (s.find_first_of(".eEn") == std::string::npos)
    s += ".0";
  return s;
}

template <class F> static std::string shortest(F v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  return withFloatMarker(std::string(buf, r.ptr));
}

std::string formatDouble(double v) {
  if (std::isnan(v))
    return std::signbit(v) ? "-nan" : "nan";
  if (std::isinf(v))
    return v < 0 ? "-inf" : "inf";
  return shortest(v);
}

static uint64_t rawBits(const Tensor &t, int64_t i) {
  uint64_t bits = 0;
  size_t size = dtypeSize(t.dtype());
  std::memcpy(&bits, t.bytes() + i * size, size); // little-endian host
  return bits;
}

static std::string hexBits(uint64_t bits, size_t bytes) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string s = "0x";
  for (size_t d = bytes * 2; d-- > 0;)
    s += kHex[(bits >> (4 * d)) & 15];
  return s;
}

std::string formatElement(const Tensor &t, int64_t i) {
  DType dt = t.dtype();
  if (dt == DType::Bool)
    return t.getInt(i) ? "true" : "false";
  if (isInteger(dt))
    return strCat(t.getInt(i));
  double v = t.getDouble(i);
  if (std::isnan(v)) {
    size_t size = dtypeSize(dt);
    uint64_t bits = rawBits(t, i);
    uint64_t sign = uint64_t(1) << (size * 8 - 1);
    if (bits == canonicalNaNBits(dt))
      return "nan";
    if (bits == (canonicalNaNBits(dt) | sign))
      return "-nan";
    return hexBits(bits, size);
  }
  if (std::isinf(v))
    return v < 0 ? "-inf" : "inf";
  if (dt == DType::F64)
    return shortest(v);
  // f32, and f16/bf16 whose values are exact f32 values.
  return shortest(static_cast<float>(v));
}

static bool isSplat(const Tensor &t) {
  size_t size = dtypeSize(t.dtype());
  int64_t n = t.numElements();
  if (n < 2)
    return false;
  for (int64_t i = 1; i < n; ++i)
    if (std::memcmp(t.bytes(), t.bytes() + i * size, size) != 0)
      return false;
  return true;
}

static void printNested(const Tensor &t, size_t dim, int64_t &next,
                        std::string &out) {
  if (dim == t.shape().size()) {
    out += formatElement(t, next++);
    return;
  }
  out += '[';
  for (int64_t i = 0; i < t.shape()[dim]; ++i) {
    if (i)
      out += ", ";
    printNested(t, dim + 1, next, out);
  }
  out += ']';
}

std::string printDense(const Tensor &t) {
  std::string out = "dense<";
  if (isSplat(t)) {
    out += formatElement(t, 0);
  } else {
    int64_t next = 0;
    printNested(t, 0, next, out);
  }
  out += '>';
  return out;
}

template <class T>
static std::string printList(const std::vector<T> &items, auto format) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i)
      out += ", ";
    out += format(items[i]);
  }
  return out + "]";
}

// `omitTensorType`: the type a dense literal has when none is written.
static std::string printAttributeIn(const Attribute &attr,
                                    const TensorType *omitTensorType) {
  struct Visitor {
    const TensorType *omit;
    std::string operator()(int64_t v) const { return strCat(v); }
    std::string operator()(double v) const { return formatDouble(v); }
    std::string operator()(bool v) const { return v ? "true" : "false"; }
    std::string operator()(const std::string &v) const {
      return quoteString(v);
    }
    std::string operator()(const std::vector<int64_t> &v) const {
      return printList(v, [](int64_t x) { return strCat(x); });
    }
    std::string operator()(const std::vector<double> &v) const {
      return printList(v, [](double x) { return formatDouble(x); });
    }
    std::string operator()(DType v) const { return std::string(dtypeName(v)); }
    std::string operator()(const SymbolRef &v) const {
      return "@" + formatName(v.name);
    }
    std::string operator()(const std::shared_ptr<const Tensor> &v) const {
      if (!v)
        return "dense<>";
      std::string out = printDense(*v);
      if (!omit || !(*omit == v->type()))
        out += " : " + v->type().str();
      return out;
    }
  };
  return std::visit(Visitor{omitTensorType}, attr);
}

std::string printAttribute(const Attribute &attr) {
  return printAttributeIn(attr, nullptr);
}

static std::string valueRef(const Value *v) {
  return v ? "%" + formatName(v->name) : "%<null>";
}

static std::string attrKey(std::string_view key) {
  bool bare =
      !key.empty() &&
      (std::isalpha(static_cast<unsigned char>(key[0])) || key[0] == '_');
  for (char c : key)
    bare = bare && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
                    c == '.');
  bool reserved = key == "inf" || key == "nan";
  return bare && !reserved ? std::string(key) : quoteString(key);
}

std::string printOp(const Op &op) {
  std::string out;
  for (size_t i = 0; i < op.results.size(); ++i)
    out += (i ? ", " : "") + valueRef(op.results[i]);
  if (!op.results.empty())
    out += " = ";
  out += op.def ? std::string(op.name()) : std::string("<no-op-def>");
  out += '(';
  for (size_t i = 0; i < op.operands.size(); ++i)
    out += (i ? ", " : "") + valueRef(op.operands[i]);
  out += ')';
  if (!op.attrs.empty()) {
    const TensorType *omit =
        op.results.empty() ? nullptr : &op.results[0]->type;
    out += " {";
    bool first = true;
    for (const auto &[key, attr] : op.attrs) {
      if (!first)
        out += ", ";
      first = false;
      out += attrKey(key) + " = " + printAttributeIn(attr, omit);
    }
    out += '}';
  }
  for (size_t i = 0; i < op.results.size(); ++i)
    out += (i ? ", " : " : ") + op.results[i]->type.str();
  return out;
}

std::string printFunction(const Function &f) {
  std::string out =
      (f.isKernel ? "kernel @" : "func @") + formatName(f.name) + "(";
  for (size_t i = 0; i < f.params.size(); ++i)
    out += (i ? ", " : "") + valueRef(f.params[i]) + ": " +
           f.params[i]->type.str();
  out += ") -> (";
  for (size_t i = 0; i < f.resultTypes.size(); ++i)
    out += (i ? ", " : "") + f.resultTypes[i].str();
  out += ") {\n";
  for (const auto &op : f.ops)
    out += "  " + printOp(*op) + "\n";
  out += "  return";
  for (size_t i = 0; i < f.returns.size(); ++i)
    out += (i ? ", " : " ") + valueRef(f.returns[i]);
  out += "\n}\n";
  return out;
}

std::string printModule(const Module &m) {
  std::string out;
  if (!m.name.empty())
    out += "module @" + formatName(m.name) + "\n";
  if (!m.params.empty()) {
    if (!out.empty())
      out += "\n";
    for (const Param &p : m.params)
      out += "param @" + formatName(p.name) + " : " + p.type.str() + "\n";
  }
  for (const auto &f : m.functions) {
    if (!out.empty())
      out += "\n";
    out += printFunction(*f);
  }
  return out;
}

} // namespace nyx::ir

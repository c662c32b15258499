#include "compiler/dot.h"

#include <map>
#include <sstream>
#include <vector>

#include "ir/op_registry.h"
#include "ir/strings.h"

namespace nyx::compiler {

// The length of the UTF-8 sequence starting at s[i], or 0 when the bytes
// there are not one (overlong forms and surrogates included).
static size_t utf8SequenceLength(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char lead = byte(i);
  size_t n = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 0;
  if (n == 0 || lead > 0xF4 || lead == 0xC0 || lead == 0xC1 || i + n > s.size())
    return 0;
  for (size_t k = 1; k < n; ++k)
    if ((byte(i + k) & 0xC0) != 0x80)
      return 0;
  unsigned char second = byte(i + 1);
  if ((lead == 0xE0 && second < 0xA0) || (lead == 0xED && second >= 0xA0) ||
      (lead == 0xF0 && second < 0x90) || (lead == 0xF4 && second >= 0x90))
    return 0;
  return n;
}

std::string escapeDotLabel(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      size_t n = utf8SequenceLength(text, i);
      out += n ? text.substr(i, n) : "?";
      i += n ? n : 1;
      continue;
    }
    if (c == '"' || c == '\\')
      out += {'\\', static_cast<char>(c)};
    else if (c == '\n')
      out += "\\n";
    else if (c < 0x20 || c == 0x7F)
      out += '?';
    else
      out += static_cast<char>(c);
    ++i;
  }
  return out;
}

namespace {

struct NodeStyle {
  std::string_view shape;
  std::string_view fill;
};

constexpr NodeStyle kInputStyle{"invhouse", "#dbeafe"};
constexpr NodeStyle kParamStyle{"cylinder", "#fef3c7"};
constexpr NodeStyle kConstantStyle{"note", "#e5e7eb"};
constexpr NodeStyle kOpStyle{"box", "#ffffff"};
constexpr NodeStyle kReturnStyle{"house", "#dcfce7"};

// Params and constants hold data; no code runs for them.
NodeStyle styleOf(const ir::Op &op) {
  if (op.name() == "param")
    return kParamStyle;
  if (op.name() == "constant")
    return kConstantStyle;
  return kOpStyle;
}

// "matmul" or "param @fc1.weight", then one line per result:
// "%y : f32[4,128]".
std::string opLabel(const ir::Op &op) {
  std::string label(op.name());
  for (const auto &[key, attr] : op.attrs)
    if (const auto *sym = std::get_if<ir::SymbolRef>(&attr))
      label += strCat(" @", sym->name);
  for (const ir::Value *r : op.results)
    label += strCat("\n%", r->name, " : ", r->type.str());
  return label;
}

class DotWriter {
public:
  DotWriter(const ir::Module &module, const ir::Function &function)
      : module_(module), function_(function) {}

  std::string write(bool kernels) {
    out_ << "digraph \"" << escapeDotLabel(function_.name) << "\" {\n"
         << "  rankdir=TB;\n"
         << "  graph [fontname=\"Helvetica\", fontsize=11];\n"
         << "  node [fontname=\"Helvetica\", fontsize=10, style=filled];\n"
         << "  edge [fontname=\"Helvetica\", fontsize=9];\n";
    for (size_t i = 0; i < function_.params.size(); ++i) {
      const ir::Value *p = function_.params[i];
      std::string id = strCat("in", i);
      node("  ", id, kInputStyle, strCat("%", p->name, "\n", p->type.str()));
      sources_[p] = {id, strCat("%", p->name)};
    }
    for (size_t i = 0; i < function_.ops.size(); ++i) {
      const ir::Op &op = *function_.ops[i];
      std::string id = strCat("op", i);
      if (kernels && drawFusion(op, id))
        continue;
      // Params, constants and calls are Opaque: they run no kernel.
      bool ownKernel = kernels && op.def->fusion != ir::FusionKind::Opaque;
      if (!ownKernel) {
        drawOp(op, id, "  ", sources_);
        continue;
      }
      out_ << "  subgraph cluster_" << id << " {\n"
           << "    label=\"" << escapeDotLabel(strCat("kernel ", op.name()))
           << "\";\n    style=rounded;\n";
      drawOp(op, id, "    ", sources_);
      out_ << "  }\n";
    }
    node("  ", "ret", kReturnStyle, "return");
    for (const ir::Value *v : function_.returns)
      edgeFrom(sources_, v, "ret");
    for (const std::string &e : edges_)
      out_ << e;
    out_ << "}\n";
    return out_.str();
  }

private:
  // The node that defines a value, and the name its edges carry.
  struct Source {
    std::string node;
    std::string name;
  };
  using Sources = std::map<const ir::Value *, Source>;

  void node(std::string_view indent, const std::string &id, NodeStyle style,
            std::string_view label) {
    out_ << indent << id << " [shape=" << style.shape << ", fillcolor=\""
         << style.fill << "\", label=\"" << escapeDotLabel(label) << "\"];\n";
  }

  // Edges are written after every node and cluster: an edge inside a
  // cluster's braces would pull its other end into that cluster.
  void edgeFrom(const Sources &sources, const ir::Value *v,
                const std::string &to) {
    auto it = sources.find(v);
    if (it == sources.end())
      return;
    edges_.push_back(strCat("  ", it->second.node, " -> ", to, " [label=\"",
                            escapeDotLabel(it->second.name), "\"];\n"));
  }

  void drawOp(const ir::Op &op, const std::string &id, std::string_view indent,
              Sources &sources) {
    node(indent, id, styleOf(op), opLabel(op));
    for (const ir::Value *v : op.operands)
      edgeFrom(sources, v, id);
    for (const ir::Value *r : op.results)
      sources[r] = {id, strCat("%", r->name)};
  }

  // A `fusion` op as a cluster of its kernel function's ops: the kernel's
  // params stand for the fusion's operands and its returns for the
  // fusion's results; edges that cross the cluster's border carry the
  // caller's names. False when `op` does not run a kernel function.
  bool drawFusion(const ir::Op &op, const std::string &id) {
    if (!op.has("callee"))
      return false;
    auto calleeName = op.getSymbol("callee");
    const ir::Function *callee =
        calleeName.ok() ? module_.lookupFunction(*calleeName) : nullptr;
    if (!callee || !callee->isKernel ||
        callee->params.size() != op.operands.size() ||
        callee->returns.size() != op.results.size())
      return false;
    Sources inner;
    for (size_t j = 0; j < callee->params.size(); ++j)
      if (auto it = sources_.find(op.operands[j]); it != sources_.end())
        inner[callee->params[j]] = it->second;
    out_ << "  subgraph cluster_" << id << " {\n"
         << "    label=\"" << escapeDotLabel(strCat("kernel @", callee->name))
         << "\";\n    style=\"rounded,filled\";\n    fillcolor=\"#f5f3ff\";\n";
    for (size_t j = 0; j < callee->ops.size(); ++j)
      drawOp(*callee->ops[j], strCat(id, "_", j), "    ", inner);
    out_ << "  }\n";
    for (size_t r = 0; r < op.results.size(); ++r)
      if (auto it = inner.find(callee->returns[r]); it != inner.end())
        sources_[op.results[r]] = {it->second.node,
                                   strCat("%", op.results[r]->name)};
    return true;
  }

  const ir::Module &module_;
  const ir::Function &function_;
  std::ostringstream out_;
  Sources sources_; // the node that defines each value of `function_`
  std::vector<std::string> edges_;
};

} // namespace

std::string printDot(const ir::Module &module, const ir::Function &function) {
  return DotWriter(module, function).write(false);
}

std::string printKernelsDot(const ir::Module &module,
                            const ir::Function &function) {
  return DotWriter(module, function).write(true);
}

} // namespace nyx::compiler

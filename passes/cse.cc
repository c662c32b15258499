// Common subexpression elimination: two ops with the same name, operands
// (either order for a commutative op), attributes (compared by value, dense
// tensors by their bits) and result types compute the same values, since
// every op is pure; the later one is replaced by the earlier. A function
// body is straight-line SSA, so one forward walk sees every definition
// before its uses and merges across the whole function.
#include <bit>
#include <cstring>
#include <variant>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "ir/op_registry.h"
#include "passes/pass.h"

namespace nyx::passes {
namespace {

// Attribute equality by value: a double by its bits (-0.0 and 0.0 differ,
// a NaN equals itself), a tensor by its type and bytes.
struct SameAttribute {
  bool operator()(const ir::Attribute &a, const ir::Attribute &b) const {
    if (a.index() != b.index())
      return false;
    if (auto *x = std::get_if<double>(&a))
      return std::bit_cast<uint64_t>(*x) ==
             std::bit_cast<uint64_t>(std::get<double>(b));
    if (auto *x = std::get_if<std::vector<double>>(&a)) {
      const auto &y = std::get<std::vector<double>>(b);
      return x->size() == y.size() &&
             (x->empty() || std::memcmp(x->data(), y.data(),
                                        x->size() * sizeof(double)) == 0);
    }
    if (auto *x = std::get_if<std::shared_ptr<const ir::Tensor>>(&a)) {
      const auto &y = std::get<std::shared_ptr<const ir::Tensor>>(b);
      return *x == y || (*x && y && **x == *y);
    }
    return a == b;
  }
};

size_t hashAttribute(const ir::Attribute &a) {
  return std::visit(
      [&](const auto &v) -> size_t {
        using T = std::decay_t<decltype(v)>;
        size_t h = absl::HashOf(a.index());
        if constexpr (std::is_same_v<T, double>)
          return absl::HashOf(h, std::bit_cast<uint64_t>(v));
        else if constexpr (std::is_same_v<T, std::vector<double>>) {
          for (double d : v)
            h = absl::HashOf(h, std::bit_cast<uint64_t>(d));
          return h;
        } else if constexpr (std::is_same_v<T, ir::DType>)
          return absl::HashOf(h, static_cast<int>(v));
        else if constexpr (std::is_same_v<T, ir::SymbolRef>)
          return absl::HashOf(h, v.name);
        else if constexpr (std::is_same_v<T,
                                          std::shared_ptr<const ir::Tensor>>) {
          if (!v)
            return h;
          return absl::HashOf(
              h, static_cast<int>(v->dtype()), v->shape(),
              std::string_view(reinterpret_cast<const char *>(v->bytes()),
                               v->byteSize()));
        } else
          return absl::HashOf(h, v);
      },
      a);
}

// An op seen as the expression it computes; the key of the table of
// expressions computed so far.
struct Expression {
  const ir::Op *op;
};

// Operands in the order the key uses: sorted for a commutative op, so that
// both orders hash alike.
std::vector<const ir::Value *> keyOperands(const ir::Op &op) {
  std::vector<const ir::Value *> operands(op.operands.begin(),
                                          op.operands.end());
  if (op.def->commutative && operands.size() == 2 && operands[1] < operands[0])
    std::swap(operands[0], operands[1]);
  return operands;
}

struct HashExpression {
  size_t operator()(const Expression &e) const {
    const ir::Op &op = *e.op;
    size_t h = absl::HashOf(op.def, keyOperands(op));
    for (const ir::Value *r : op.results)
      h = absl::HashOf(h, static_cast<int>(r->type.dtype), r->type.shape);
    for (const auto &[name, value] : op.attrs)
      h = absl::HashOf(h, name, hashAttribute(value));
    return h;
  }
};

struct SameExpression {
  bool operator()(const Expression &x, const Expression &y) const {
    const ir::Op &a = *x.op, &b = *y.op;
    if (a.def != b.def || keyOperands(a) != keyOperands(b) ||
        a.results.size() != b.results.size() ||
        a.attrs.size() != b.attrs.size())
      return false;
    for (size_t i = 0; i < a.results.size(); ++i)
      if (a.results[i]->type != b.results[i]->type)
        return false;
    for (auto i = a.attrs.begin(), j = b.attrs.begin(); i != a.attrs.end();
         ++i, ++j)
      if (i->first != j->first || !SameAttribute()(i->second, j->second))
        return false;
    return true;
  }
};

int64_t eliminateIn(ir::Function &fn) {
  absl::flat_hash_set<Expression, HashExpression, SameExpression> seen;
  absl::flat_hash_map<const ir::Value *, ir::Value *> mergedInto;
  absl::flat_hash_set<const ir::Op *> merged;
  for (auto &op : fn.ops) {
    for (ir::Value *&v : op->operands)
      if (auto it = mergedInto.find(v); it != mergedInto.end())
        v = it->second;
    auto [it, inserted] = seen.insert(Expression{op.get()});
    if (inserted)
      continue;
    const ir::Op &earlier = *it->op;
    for (size_t i = 0; i < op->results.size(); ++i)
      mergedInto[op->results[i]] = earlier.results[i];
    merged.insert(op.get());
  }
  for (ir::Value *&v : fn.returns)
    if (auto it = mergedInto.find(v); it != mergedInto.end())
      v = it->second;
  std::erase_if(fn.ops, [&](const std::unique_ptr<ir::Op> &op) {
    return merged.contains(op.get());
  });
  return static_cast<int64_t>(merged.size());
}

} // namespace

absl::Status runCse(ir::Module &m, const Options &o) {
  int64_t merged = 0;
  for (auto &fn : m.functions)
    merged += eliminateIn(*fn);
  o.count("cse.merged", merged);
  return absl::OkStatus();
}

} // namespace nyx::passes

// The converter of Einsum: each operand's repeated labels become diagonals,
// then the operands are contracted pairwise, each pair by one batched matmul
// with the labels no longer needed summed out.
#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "frontends/onnx/convert_helpers.h"
#include "frontends/onnx/converters.h"
#include "ir/strings.h"

namespace nyx::onnx_import {
namespace {

using ir::Shape;
using ir::Value;

// A labelled operand: labels[i] names axis i. Letters are their character
// codes; the axes an ellipsis stands for are kEllipsisLabel + k.
constexpr int kEllipsisLabel = 256;

struct Labelled {
  Value *value = nullptr;
  std::vector<int> labels;
};

bool contains(const std::vector<int> &labels, int label) {
  return std::find(labels.begin(), labels.end(), label) != labels.end();
}

// Parses one term ("bij", "...ii") of an operand of rank `rank`; the
// ellipsis' axes get the last labels of the `ellipsisRank` shared ones (they
// broadcast from the right).
std::optional<std::vector<int>> parseTerm(NodeContext &n, std::string_view term,
                                          int64_t rank, int64_t ellipsisRank) {
  std::vector<int> labels;
  size_t dots = term.find("...");
  int64_t letters = static_cast<int64_t>(term.size()) -
                    (dots == std::string_view::npos ? 0 : 3);
  if (dots != std::string_view::npos &&
      term.find("...", dots + 3) != std::string_view::npos) {
    n.fail(strCat("term '", term, "' has two ellipses; expected at most one"))
        .IgnoreError();
    return std::nullopt;
  }
  int64_t covered = rank - letters;
  if (covered < 0 || (dots == std::string_view::npos && covered != 0) ||
      covered > ellipsisRank) {
    n.fail(strCat("term '", term, "' does not match an operand of rank ", rank))
        .IgnoreError();
    return std::nullopt;
  }
  for (size_t i = 0; i < term.size(); ++i) {
    if (i == dots) {
      for (int64_t k = ellipsisRank - covered; k < ellipsisRank; ++k)
        labels.push_back(kEllipsisLabel + static_cast<int>(k));
      i += 2;
      continue;
    }
    char c = term[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
      n.fail(strCat("term '", term, "' has '", std::string(1, c),
                    "'; expected letters and at most one '...'"))
          .IgnoreError();
      return std::nullopt;
    }
    labels.push_back(c);
  }
  return labels;
}

// The size of each label across the operands (1 where it broadcasts).
std::map<int, int64_t> labelSizes(const std::vector<Labelled> &ops) {
  std::map<int, int64_t> sizes;
  for (const Labelled &op : ops)
    for (size_t i = 0; i < op.labels.size(); ++i) {
      int64_t d = op.value->type.shape[i];
      auto [it, inserted] = sizes.emplace(op.labels[i], d);
      if (!inserted && it->second == 1)
        it->second = d;
    }
  return sizes;
}

// Takes the diagonal of two axes with the same label: both move last,
// flatten to d*d, and every (d+1)-th element is kept.
void takeDiagonals(NodeContext &n, Labelled &op) {
  for (size_t p = 0; p < op.labels.size() && op.value; ++p) {
    for (size_t q = p + 1; q < op.labels.size(); ++q) {
      if (op.labels[q] != op.labels[p])
        continue;
      const Shape &shape = op.value->type.shape;
      const int64_t d = shape[p];
      if (shape[q] != d) {
        n.fail(strCat("a repeated label has sizes ", d, " and ", shape[q],
                      "; expected them equal"))
            .IgnoreError();
        return;
      }
      std::vector<int64_t> perm;
      std::vector<int> labels;
      Shape flat;
      for (size_t i = 0; i < op.labels.size(); ++i)
        if (i != p && i != q) {
          perm.push_back(static_cast<int64_t>(i));
          labels.push_back(op.labels[i]);
          flat.push_back(shape[i]);
        }
      perm.push_back(static_cast<int64_t>(p));
      perm.push_back(static_cast<int64_t>(q));
      labels.push_back(op.labels[p]);
      flat.push_back(d * d);
      Value *moved = reshape(n, transpose(n, op.value, perm), flat);
      op.value = sliceAxis(n, moved, static_cast<int64_t>(flat.size()) - 1, 0,
                           d * d, d + 1);
      op.labels = std::move(labels);
      p = static_cast<size_t>(-1); // start over: labels moved
      break;
    }
  }
}

// Sums out the labels of `op` that are not in `keep`.
void sumOutExcept(NodeContext &n, Labelled &op, const std::vector<int> &keep) {
  std::vector<int64_t> axes;
  std::vector<int> labels;
  for (size_t i = 0; i < op.labels.size(); ++i) {
    if (contains(keep, op.labels[i]))
      labels.push_back(op.labels[i]);
    else
      axes.push_back(static_cast<int64_t>(i));
  }
  if (axes.empty())
    return;
  op.value = n.op("reduce_sum", {op.value}, {{"axes", axes}});
  op.labels = std::move(labels);
}

// Broadcasts the axes of `op` that have size 1 where the label's size is
// larger (an ellipsis broadcasting against another operand's).
void broadcastLabels(NodeContext &n, Labelled &op,
                     const std::map<int, int64_t> &sizes) {
  if (!op.value)
    return;
  Shape shape = op.value->type.shape;
  bool changed = false;
  for (size_t i = 0; i < op.labels.size(); ++i)
    if (shape[i] != sizes.at(op.labels[i])) {
      shape[i] = sizes.at(op.labels[i]);
      changed = true;
    }
  if (changed)
    op.value = n.op("broadcast_to", {op.value}, {{"shape", shape}});
}

// Contracts two operands with one batched matmul, keeping the labels in
// `keep`: a is moved to [batch, left, summed], b to [batch, summed, right].
Labelled contract(NodeContext &n, Labelled a, Labelled b,
                  const std::vector<int> &keep) {
  std::vector<int> keepA = keep, keepB = keep;
  keepA.insert(keepA.end(), b.labels.begin(), b.labels.end());
  keepB.insert(keepB.end(), a.labels.begin(), a.labels.end());
  sumOutExcept(n, a, keepA);
  sumOutExcept(n, b, keepB);
  if (!a.value || !b.value)
    return {};
  std::map<int, int64_t> sizes = labelSizes({a, b});
  broadcastLabels(n, a, sizes);
  broadcastLabels(n, b, sizes);
  std::vector<int> batch, left, summed, right;
  for (int l : a.labels) {
    if (!contains(b.labels, l))
      left.push_back(l);
    else if (contains(keep, l))
      batch.push_back(l);
    else
      summed.push_back(l);
  }
  for (int l : b.labels)
    if (!contains(a.labels, l))
      right.push_back(l);
  auto moveTo = [&](const Labelled &op, std::vector<std::vector<int>> groups) {
    std::vector<int64_t> perm;
    Shape shape;
    for (const std::vector<int> &group : groups) {
      int64_t size = 1;
      for (int l : group) {
        perm.push_back(std::find(op.labels.begin(), op.labels.end(), l) -
                       op.labels.begin());
        size *= sizes.at(l);
      }
      shape.push_back(size);
    }
    return reshape(n, transpose(n, op.value, perm), shape);
  };
  Value *lhs = moveTo(a, {batch, left, summed});
  Value *rhs = moveTo(b, {batch, summed, right});
  Labelled out;
  out.value = n.op("matmul", {lhs, rhs});
  Shape shape;
  for (const std::vector<int> *group : {&batch, &left, &right})
    for (int l : *group) {
      out.labels.push_back(l);
      shape.push_back(sizes.at(l));
    }
  out.value = reshape(n, out.value, shape);
  return out;
}

absl::Status convertEinsum(NodeContext &n) {
  std::string equation;
  for (char c : n.attrString("equation", ""))
    if (c != ' ')
      equation += c;
  if (!n.status().ok())
    return n.status();
  size_t arrow = equation.find("->");
  std::string lhs = equation.substr(0, arrow);
  std::vector<std::string> terms;
  for (size_t start = 0;;) {
    size_t comma = lhs.find(',', start);
    terms.push_back(lhs.substr(start, comma - start));
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  if (static_cast<int>(terms.size()) != n.numInputs())
    return n.fail(strCat("equation '", equation, "' has ", terms.size(),
                         " operand terms for ", n.numInputs(),
                         " inputs; expected one term per input"));
  std::vector<Labelled> ops(terms.size());
  int64_t ellipsisRank = 0;
  for (size_t i = 0; i < terms.size(); ++i) {
    ops[i].value = n.input(static_cast<int>(i));
    if (!ops[i].value)
      return n.status();
    if (terms[i].find("...") != std::string::npos)
      ellipsisRank = std::max<int64_t>(
          ellipsisRank, ops[i].value->type.rank() -
                            static_cast<int64_t>(terms[i].size() - 3));
  }
  for (size_t i = 0; i < terms.size(); ++i) {
    auto labels =
        parseTerm(n, terms[i], ops[i].value->type.rank(), ellipsisRank);
    if (!labels)
      return n.status();
    ops[i].labels = std::move(*labels);
  }
  std::vector<int> output;
  if (arrow != std::string::npos) {
    std::string term = equation.substr(arrow + 2);
    bool dots = term.find("...") != std::string::npos;
    int64_t rank =
        static_cast<int64_t>(term.size()) - (dots ? 3 - ellipsisRank : 0);
    auto labels = parseTerm(n, term, rank, ellipsisRank);
    if (!labels)
      return n.status();
    output = std::move(*labels);
  } else {
    // Implicit output: the ellipsis' axes, then the letters that occur
    // once, in alphabetical order.
    std::map<int, int> counts;
    for (const Labelled &op : ops)
      for (int l : op.labels)
        ++counts[l];
    for (int64_t k = 0; k < ellipsisRank; ++k)
      output.push_back(kEllipsisLabel + static_cast<int>(k));
    for (auto [l, count] : counts)
      if (l < kEllipsisLabel && count == 1)
        output.push_back(l);
  }
  for (size_t i = 0; i < output.size(); ++i) {
    if (std::find(output.begin() + i + 1, output.end(), output[i]) !=
        output.end())
      return n.fail(strCat("equation '", equation,
                           "' repeats a label in its output; expected each "
                           "output label once"));
    bool found = false;
    for (const Labelled &op : ops)
      found = found || contains(op.labels, output[i]);
    if (!found)
      return n.fail(strCat("equation '", equation,
                           "' has an output label no operand has"));
  }
  for (Labelled &op : ops)
    takeDiagonals(n, op);
  if (!n.status().ok())
    return n.status();
  Labelled acc = ops[0];
  for (size_t i = 1; i < ops.size(); ++i) {
    // Labels still needed: by later operands or by the output.
    std::vector<int> keep = output;
    for (size_t j = i + 1; j < ops.size(); ++j)
      keep.insert(keep.end(), ops[j].labels.begin(), ops[j].labels.end());
    acc = contract(n, acc, ops[i], keep);
    if (!acc.value)
      return n.status();
  }
  sumOutExcept(n, acc, output);
  if (!acc.value)
    return n.status();
  std::vector<int64_t> perm;
  for (int l : output)
    perm.push_back(std::find(acc.labels.begin(), acc.labels.end(), l) -
                   acc.labels.begin());
  n.setOutput(0, transpose(n, acc.value, perm));
  return n.status();
}

constexpr ConverterEntry kTable[] = {
    {"Einsum", convertEinsum},
};

} // namespace

std::span<const ConverterEntry> einsumConverters() { return kTable; }

} // namespace nyx::onnx_import

#include "codegen/kernel/simplify.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <sstream>
#include <utility>
#include <vector>

namespace nyx::kernel {
namespace {

using B = Builder;

bool isIndexArithmetic(const Expr &e) {
  if (e.type != DType::I64 || e.kind != Expr::Kind::Binary)
    return false;
  switch (e.binary) {
  case BinaryFn::Add:
  case BinaryFn::Sub:
  case BinaryFn::Mul:
  case BinaryFn::Div:
  case BinaryFn::Rem:
    return true;
  default:
    return false;
  }
}

std::optional<int64_t> constantOf(const Expr &e) {
  if (e.kind == Expr::Kind::IntConst && e.type == DType::I64)
    return e.intValue;
  return std::nullopt;
}

// The divisor of an i64 division or remainder by a positive constant.
std::optional<int64_t> positiveDivisor(const Expr &e, BinaryFn fn) {
  if (e.kind != Expr::Kind::Binary || e.binary != fn || e.type != DType::I64)
    return std::nullopt;
  auto k = constantOf(*e.args[1]);
  if (!k || *k <= 0)
    return std::nullopt;
  return k;
}

int64_t floorDiv(int64_t a, int64_t k) { // k > 0
  int64_t q = a / k;
  return (a % k != 0 && a < 0) ? q - 1 : q;
}

// coefficient * atom; a null atom is the constant term.
struct Term {
  ExprRef atom;
  int64_t coeff = 0;
};

// A sum of terms in the order they first appeared. `overflow` marks
// arithmetic that left int64: the caller then keeps the expression as it
// was written.
struct Linear {
  std::vector<Term> terms;
  bool overflow = false;

  void add(const ExprRef &atom, int64_t coeff) {
    for (Term &t : terms)
      if ((!atom && !t.atom) || (atom && t.atom && sameExpr(*atom, *t.atom))) {
        overflow |= __builtin_add_overflow(t.coeff, coeff, &t.coeff);
        return;
      }
    terms.push_back({atom, coeff});
  }
  void addScaled(const Linear &o, int64_t k) {
    overflow |= o.overflow;
    for (const Term &t : o.terms) {
      int64_t c;
      overflow |= __builtin_mul_overflow(t.coeff, k, &c);
      add(t.atom, c);
    }
  }
  // The value when every term is constant.
  std::optional<int64_t> constant() const {
    int64_t c = 0;
    for (const Term &t : terms) {
      if (t.atom && t.coeff != 0)
        return std::nullopt;
      if (!t.atom)
        c = t.coeff;
    }
    return c;
  }
  // The single atom (coefficient 1, no constant), if that is all there is.
  const ExprRef *single() const {
    const ExprRef *found = nullptr;
    for (const Term &t : terms) {
      if (t.coeff == 0)
        continue;
      if (!t.atom || t.coeff != 1 || found)
        return nullptr;
      found = &t.atom;
    }
    return found;
  }
};

std::optional<IndexRange> addRanges(std::optional<IndexRange> a,
                                    std::optional<IndexRange> b) {
  if (!a || !b)
    return std::nullopt;
  IndexRange r;
  if (__builtin_add_overflow(a->lo, b->lo, &r.lo) ||
      __builtin_add_overflow(a->hi, b->hi, &r.hi))
    return std::nullopt;
  return r;
}

std::optional<IndexRange> scaleRange(std::optional<IndexRange> a, int64_t k) {
  if (!a)
    return std::nullopt;
  int64_t x, y;
  if (__builtin_mul_overflow(a->lo, k, &x) ||
      __builtin_mul_overflow(a->hi, k, &y))
    return std::nullopt;
  return IndexRange{std::min(x, y), std::max(x, y)};
}

class Simplifier {
public:
  explicit Simplifier(const VarExtents &extents) : extents_(extents) {}

  ExprRef simplify(const ExprRef &e) {
    auto it = memo_.find(e.get());
    if (it != memo_.end())
      return it->second.second;
    ExprRef out;
    if (isIndexArithmetic(*e)) {
      Linear l = linear(e);
      out = l.overflow ? simplifyChildren(e) : rebuild(l);
    } else {
      out = simplifyChildren(e);
    }
    memo_.emplace(e.get(), std::make_pair(e, out));
    return out;
  }

  std::optional<IndexRange> range(const ExprRef &e) {
    if (e->type != DType::I64)
      return std::nullopt;
    Linear l = linear(e);
    if (l.overflow)
      return std::nullopt;
    return range(l);
  }

private:
  ExprRef simplifyChildren(const ExprRef &e) {
    std::vector<ExprRef> args;
    bool changed = false;
    for (const ExprRef &a : e->args) {
      args.push_back(simplify(a));
      changed |= args.back() != a;
    }
    if (!changed)
      return e;
    auto copy = std::make_shared<Expr>(*e);
    copy->args = std::move(args);
    return copy;
  }

  // `e` (i64) as a normalized sum of terms.
  Linear linear(const ExprRef &e) {
    Linear l;
    if (auto c = constantOf(*e)) {
      l.add(nullptr, *c);
      return l;
    }
    if (!isIndexArithmetic(*e)) {
      l.add(simplifyChildren(e), 1);
      return l;
    }
    const ExprRef &a = e->args[0], &b = e->args[1];
    switch (e->binary) {
    case BinaryFn::Add:
    case BinaryFn::Sub:
      l = linear(a);
      l.addScaled(linear(b), e->binary == BinaryFn::Add ? 1 : -1);
      break;
    case BinaryFn::Mul: {
      Linear la = linear(a), lb = linear(b);
      if (auto k = lb.constant()) {
        l.addScaled(la, *k);
      } else if (auto k = la.constant()) {
        l.addScaled(lb, *k);
      } else {
        l.overflow = la.overflow || lb.overflow;
        l.add(B::binary(BinaryFn::Mul, rebuild(la), rebuild(lb)), 1);
      }
      break;
    }
    default: { // Div, Rem
      Linear num = linear(a), den = linear(b);
      auto k = den.constant();
      if (num.overflow || den.overflow || !k || *k <= 0) {
        l.overflow = num.overflow || den.overflow;
        l.add(B::binary(e->binary, rebuild(num), rebuild(den)), 1);
        return l;
      }
      return divRem(num, *k, e->binary == BinaryFn::Div);
    }
    }
    combineDivRem(l);
    return l;
  }

  // num = k*q + r with 0 <= r < k, when every term of num lies in q or
  // within one multiple of k in r; null when num may be negative or the
  // split does not come out exact.
  struct Exact {
    Linear q, r;
  };
  std::optional<Exact> exactSplit(const Linear &num, int64_t k) {
    std::optional<IndexRange> whole = range(num);
    if (!whole || whole->lo < 0)
      return std::nullopt;
    Exact out;
    for (const Term &t : num.terms) {
      if (!t.atom) {
        int64_t cq = floorDiv(t.coeff, k);
        out.q.add(nullptr, cq);
        out.r.add(nullptr, t.coeff - cq * k);
      } else if (t.coeff % k == 0) {
        out.q.add(t.atom, t.coeff / k);
      } else {
        out.r.add(t.atom, t.coeff);
      }
    }
    std::optional<IndexRange> rr = range(out.r);
    if (!rr || rr->lo < 0 || rr->lo / k != rr->hi / k)
      return std::nullopt;
    int64_t m = rr->lo / k;
    out.q.add(nullptr, m);
    out.r.add(nullptr, -m * k);
    return out;
  }

  // num / k or num % k for k > 0 (truncating, like the loop IR).
  Linear divRem(const Linear &num, int64_t k, bool isDiv) {
    Linear out;
    if (k == 1) {
      if (isDiv)
        return num;
      return out; // x % 1 == 0
    }
    auto opaque = [&] {
      Linear l;
      l.add(B::binary(isDiv ? BinaryFn::Div : BinaryFn::Rem, rebuild(num),
                      B::i64(k)),
            1);
      return l;
    };
    // Truncation is floor division only for non-negative numerators.
    std::optional<IndexRange> r = range(num);
    if (!r || r->lo < 0)
      return opaque();
    if (r->hi < k)
      return isDiv ? out : num;
    if (auto e = exactSplit(num, k)) {
      if (isDiv) {
        combineDivRem(e->q);
        return e->q;
      }
      return e->r;
    }
    // With k = d*k2 and num = d*q + r exact: num / k = q / k2 and
    // num % k = (q % k2)*d + r. Divisors shared with a coefficient are the
    // ones that can come out exact.
    for (const Term &t : num.terms) {
      if (!t.atom || t.coeff == 0)
        continue;
      int64_t d = std::gcd(t.coeff < 0 ? -t.coeff : t.coeff, k);
      if (d <= 1 || d == k)
        continue;
      std::optional<Exact> e = exactSplit(num, d);
      if (!e)
        continue;
      Linear inner = divRem(e->q, k / d, isDiv);
      if (isDiv)
        return inner;
      out.addScaled(inner, d);
      out.addScaled(e->r, 1);
      combineDivRem(out);
      return out;
    }
    // num = k*q + rest with rest >= 0: num / k = q + rest / k and
    // num % k = rest % k.
    Linear q, rest;
    for (const Term &t : num.terms) {
      if (!t.atom) {
        int64_t cq = floorDiv(t.coeff, k);
        q.add(nullptr, cq);
        rest.add(nullptr, t.coeff - cq * k);
      } else if (t.coeff % k == 0) {
        q.add(t.atom, t.coeff / k);
      } else {
        rest.add(t.atom, t.coeff);
      }
    }
    std::optional<IndexRange> rr = range(rest);
    if (!rr || rr->lo < 0)
      return opaque();
    if (isDiv) {
      q.add(divideAtom(rest, k), 1);
      combineDivRem(q);
      return q;
    }
    out.add(remainderAtom(rest, k), 1);
    return out;
  }

  // rest / k as one atom; (x / k1) / k is x / (k1 * k).
  ExprRef divideAtom(const Linear &rest, int64_t k) {
    if (const ExprRef *a = rest.single())
      if (auto k1 = positiveDivisor(**a, BinaryFn::Div)) {
        int64_t kk;
        if (!__builtin_mul_overflow(*k1, k, &kk))
          return B::binary(BinaryFn::Div, (*a)->args[0], B::i64(kk));
      }
    return B::binary(BinaryFn::Div, rebuild(rest), B::i64(k));
  }

  // rest % k as one atom; (x % k1) % k is x % k when k divides k1.
  ExprRef remainderAtom(const Linear &rest, int64_t k) {
    if (const ExprRef *a = rest.single())
      if (auto k1 = positiveDivisor(**a, BinaryFn::Rem); k1 && *k1 % k == 0)
        return B::binary(BinaryFn::Rem, (*a)->args[0], B::i64(k));
    return B::binary(BinaryFn::Rem, rebuild(rest), B::i64(k));
  }

  // (x / (k2*m)) * (c*m) + ((x / k2) % m) * c  ->  (x / k2) * c, which is
  // what ravel(unravel(x)) leaves, one dimension at a time. It holds for
  // truncating division of any x, so no range is needed.
  void combineDivRem(Linear &l) {
    for (bool changed = true; changed && !l.overflow;) {
      changed = false;
      for (size_t i = 0; i < l.terms.size() && !changed; ++i) {
        const Term &quot = l.terms[i];
        if (!quot.atom || quot.coeff == 0)
          continue;
        auto k1 = positiveDivisor(*quot.atom, BinaryFn::Div);
        if (!k1)
          continue;
        const ExprRef &x = quot.atom->args[0];
        for (size_t j = 0; j < l.terms.size() && !changed; ++j) {
          const Term &rem = l.terms[j];
          if (!rem.atom || rem.coeff == 0)
            continue;
          auto m = positiveDivisor(*rem.atom, BinaryFn::Rem);
          if (!m)
            continue;
          ExprRef base = rem.atom->args[0];
          int64_t k2 = 1;
          if (auto d = positiveDivisor(*base, BinaryFn::Div)) {
            k2 = *d;
            base = base->args[0];
          }
          int64_t k, c;
          if (__builtin_mul_overflow(k2, *m, &k) || k != *k1 ||
              __builtin_mul_overflow(rem.coeff, *m, &c) || c != quot.coeff ||
              !sameExpr(*x, *base))
            continue;
          Linear replaced;
          Linear merged;
          if (k2 == 1)
            merged = linear(x);
          else
            merged.add(rem.atom->args[0], 1);
          for (size_t t = 0; t < l.terms.size(); ++t) {
            if (t == std::min(i, j))
              replaced.addScaled(merged, rem.coeff);
            if (t != i && t != j)
              replaced.add(l.terms[t].atom, l.terms[t].coeff);
          }
          l = std::move(replaced);
          changed = true;
        }
      }
    }
  }

  ExprRef rebuild(const Linear &l) {
    ExprRef acc;
    for (const Term &t : l.terms) {
      if (t.coeff == 0)
        continue;
      ExprRef term = !t.atom ? B::i64(t.coeff)
                     : t.coeff == 1
                         ? t.atom
                         : B::binary(BinaryFn::Mul, t.atom, B::i64(t.coeff));
      acc = acc ? B::binary(BinaryFn::Add, acc, term) : term;
    }
    return acc ? acc : B::i64(0);
  }

  std::optional<IndexRange> range(const Linear &l) {
    std::optional<IndexRange> r = IndexRange{0, 0};
    for (const Term &t : l.terms) {
      if (t.coeff == 0)
        continue;
      std::optional<IndexRange> term =
          t.atom ? scaleRange(atomRange(t.atom), t.coeff)
                 : std::optional<IndexRange>(IndexRange{t.coeff, t.coeff});
      r = addRanges(r, term);
      if (!r)
        return r;
    }
    return r;
  }

  std::optional<IndexRange> atomRange(const ExprRef &a) {
    auto it = ranges_.find(a.get());
    if (it != ranges_.end())
      return it->second.second;
    std::optional<IndexRange> r = atomRangeUncached(a);
    ranges_.emplace(a.get(), std::make_pair(a, r));
    return r;
  }

  std::optional<IndexRange> atomRangeUncached(const ExprRef &a) {
    if (a->type != DType::I64)
      return std::nullopt;
    switch (a->kind) {
    case Expr::Kind::IntConst:
      return IndexRange{a->intValue, a->intValue};
    case Expr::Kind::VarRef: {
      auto it = extents_.find(a->var.id);
      if (it == extents_.end())
        return std::nullopt;
      return IndexRange{0, std::max<int64_t>(it->second - 1, 0)};
    }
    case Expr::Kind::Select: {
      auto x = range(a->args[1]), y = range(a->args[2]);
      if (!x || !y)
        return std::nullopt;
      return IndexRange{std::min(x->lo, y->lo), std::max(x->hi, y->hi)};
    }
    case Expr::Kind::Binary:
      break;
    default:
      return std::nullopt;
    }
    if (auto k = positiveDivisor(*a, BinaryFn::Div)) {
      auto x = range(a->args[0]);
      if (!x || x->lo < 0)
        return std::nullopt;
      return IndexRange{x->lo / *k, x->hi / *k};
    }
    if (auto k = positiveDivisor(*a, BinaryFn::Rem)) {
      auto x = range(a->args[0]);
      if (!x || x->lo < 0)
        return std::nullopt;
      if (x->hi < *k)
        return x;
      return IndexRange{0, *k - 1};
    }
    if (a->binary == BinaryFn::Mul) {
      auto x = range(a->args[0]), y = range(a->args[1]);
      if (!x || !y)
        return std::nullopt;
      int64_t p[4];
      if (__builtin_mul_overflow(x->lo, y->lo, &p[0]) ||
          __builtin_mul_overflow(x->lo, y->hi, &p[1]) ||
          __builtin_mul_overflow(x->hi, y->lo, &p[2]) ||
          __builtin_mul_overflow(x->hi, y->hi, &p[3]))
        return std::nullopt;
      return IndexRange{*std::min_element(p, p + 4),
                        *std::max_element(p, p + 4)};
    }
    return std::nullopt;
  }

  const VarExtents &extents_;
  // Keyed by node; the ExprRef keeps the key's node alive.
  std::unordered_map<const Expr *, std::pair<ExprRef, ExprRef>> memo_;
  std::unordered_map<const Expr *,
                     std::pair<ExprRef, std::optional<IndexRange>>>
      ranges_;
};

void writeKey(const Expr &e, std::ostringstream &os) {
  os << static_cast<int>(e.kind) << ':' << static_cast<int>(e.type);
  switch (e.kind) {
  case Expr::Kind::IntConst:
    os << '=' << e.intValue;
    break;
  case Expr::Kind::FloatConst: {
    uint64_t bits;
    std::memcpy(&bits, &e.floatValue, sizeof bits);
    os << '=' << bits;
    break;
  }
  case Expr::Kind::VarRef:
    os << 'v' << e.var.id;
    break;
  case Expr::Kind::Load:
    os << 'b' << e.buffer;
    break;
  case Expr::Kind::Unary:
    os << 'u' << static_cast<int>(e.unary);
    break;
  case Expr::Kind::Binary:
    os << 'f' << static_cast<int>(e.binary);
    break;
  case Expr::Kind::Compare:
    os << 'c' << static_cast<int>(e.cmp);
    break;
  default:
    break;
  }
  os << '(';
  for (const ExprRef &a : e.args) {
    writeKey(*a, os);
    os << ',';
  }
  os << ')';
}

} // namespace

ExprRef simplify(const ExprRef &e, const VarExtents &extents) {
  return Simplifier(extents).simplify(e);
}

std::optional<IndexRange> indexRange(const ExprRef &e,
                                     const VarExtents &extents) {
  return Simplifier(extents).range(e);
}

int countIndexDivRem(const Expr &e) {
  int n = e.type == DType::I64 && e.kind == Expr::Kind::Binary &&
                  (e.binary == BinaryFn::Div || e.binary == BinaryFn::Rem)
              ? 1
              : 0;
  for (const ExprRef &a : e.args)
    n += countIndexDivRem(*a);
  return n;
}

bool sameExpr(const Expr &a, const Expr &b) {
  if (&a == &b)
    return true;
  if (a.kind != b.kind || a.type != b.type || a.args.size() != b.args.size())
    return false;
  switch (a.kind) {
  case Expr::Kind::IntConst:
    if (a.intValue != b.intValue)
      return false;
    break;
  case Expr::Kind::FloatConst:
    if (std::memcmp(&a.floatValue, &b.floatValue, sizeof a.floatValue) != 0)
      return false;
    break;
  case Expr::Kind::VarRef:
    if (a.var.id != b.var.id)
      return false;
    break;
  case Expr::Kind::Load:
    if (a.buffer != b.buffer)
      return false;
    break;
  case Expr::Kind::Unary:
    if (a.unary != b.unary)
      return false;
    break;
  case Expr::Kind::Binary:
    if (a.binary != b.binary)
      return false;
    break;
  case Expr::Kind::Compare:
    if (a.cmp != b.cmp)
      return false;
    break;
  default:
    break;
  }
  for (size_t i = 0; i < a.args.size(); ++i)
    if (!sameExpr(*a.args[i], *b.args[i]))
      return false;
  return true;
}

std::string exprKey(const Expr &e) {
  std::ostringstream os;
  writeKey(e, os);
  return os.str();
}

} // namespace nyx::kernel

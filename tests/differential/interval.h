// Interval arithmetic on element bounds. The graph generator keeps a bound
// on every value it creates so it can refuse ops that would make the values
// huge (exp of a large value) or ill-defined (log of a value that may be
// negative, a division by a value that may be 0): in such graphs a float
// tolerance means nothing.
#pragma once

#include <algorithm>
#include <cmath>
#include <initializer_list>

namespace nyx::difftest {

struct Interval {
  double lo = 0, hi = 0;

  static Interval of(double a, double b) {
    return {std::min(a, b), std::max(a, b)};
  }
  // The smallest interval holding every listed bound.
  static Interval span(std::initializer_list<double> bounds) {
    return {*std::min_element(bounds.begin(), bounds.end()),
            *std::max_element(bounds.begin(), bounds.end())};
  }
  double magnitude() const { return std::max(std::fabs(lo), std::fabs(hi)); }
  // True when every element is at least `margin` away from zero.
  bool awayFromZero(double margin) const {
    return lo >= margin || hi <= -margin;
  }
  bool positive(double margin) const { return lo >= margin; }
  // Applies a non-decreasing function to both ends.
  template <class F> Interval map(F f) const { return of(f(lo), f(hi)); }
};

inline Interval hull(Interval a, Interval b) {
  return {std::min(a.lo, b.lo), std::max(a.hi, b.hi)};
}
inline Interval operator+(Interval a, Interval b) {
  return {a.lo + b.lo, a.hi + b.hi};
}
inline Interval operator-(Interval a) { return {-a.hi, -a.lo}; }
inline Interval operator-(Interval a, Interval b) { return a + (-b); }
inline Interval operator*(Interval a, Interval b) {
  return Interval::span({a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi});
}
inline Interval operator*(double k, Interval a) {
  return Interval::of(k * a.lo, k * a.hi);
}
// `b` must not contain 0.
inline Interval operator/(Interval a, Interval b) {
  return a * Interval::of(1 / b.lo, 1 / b.hi);
}
inline Interval absOf(Interval a) {
  if (a.lo >= 0)
    return a;
  if (a.hi <= 0)
    return -a;
  return {0, a.magnitude()};
}
// Every value whose magnitude is at most that of `a`, in both signs.
inline Interval symmetric(Interval a) {
  return {-a.magnitude(), a.magnitude()};
}

} // namespace nyx::difftest

#include "codegen/kernel/gemm_schedule.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>

#include "absl/status/status.h"
#include "ir/strings.h"

namespace nyx::kernel {
namespace {

// The part of L2 (1 MiB per core on the machines we tune for, 512 KiB or
// more elsewhere) a task's packed B block may fill, leaving room for C and
// the A panel.
constexpr int64_t kBlockBytes = 512 * 1024;
// Packed B blocks (kc x nc, or K x nc without K blocks) beyond this are
// refused.
constexpr int64_t kMaxScratchBytes = int64_t{256} << 20;

int64_t roundUp(int64_t v, int64_t m) { return (v + m - 1) / m * m; }
int64_t ceilDiv(int64_t v, int64_t m) { return (v + m - 1) / m; }

int registersFor(int lanes) { return lanes >= 16 ? 32 : 16; }

// The tallest register tile of `vectors` vectors per row that fits: the
// accumulators plus one register per B vector and one broadcast.
int64_t maxRows(int lanes, int64_t vectors) {
  return std::min<int64_t>(16, (registersFor(lanes) - vectors - 1) / vectors);
}

GemmSchedule withBlocks(const GemmShape &shape, int64_t mr, int64_t nr,
                        int64_t nc, bool packB, int threads) {
  GemmSchedule s;
  s.mr = mr;
  s.nr = nr;
  // An empty C (M or N of 0) still gets blocks of a tile.
  s.nc =
      std::min(std::max(roundUp(shape.n, nr), nr), std::max(nr, nc / nr * nr));
  s.mc = std::max(roundUp(shape.m, mr), mr);
  s.packB = packB;
  // A task per thread. Every task packs its own B block, which costs
  // about as much as multiplying it by a few dozen rows of A: narrow the
  // column blocks first, and split rows only into blocks of many rows,
  // or of a tile's rows where B is read in place.
  const int64_t wanted = int64_t{threads};
  auto tasks = [&] {
    return shape.batch * ceilDiv(shape.n, s.nc) * ceilDiv(shape.m, s.mc);
  };
  while (tasks() < wanted && s.nc > nr)
    s.nc = std::max(nr, roundUp(s.nc / 2, nr));
  const int64_t minRows = packB ? 8 * mr : mr;
  if (tasks() > 0 && tasks() < wanted && shape.m > minRows) {
    int64_t parts = std::min(ceilDiv(wanted, tasks()), shape.m / minRows);
    s.mc = roundUp(ceilDiv(shape.m, std::max<int64_t>(parts, 1)), mr);
  }
  return s;
}

// From this many rows of A on, or with wider rows of B (a longer stride
// between B's rows), B is packed even where it could be read in place.
// Measured: the MLP's 32-row products ran 1.3-1.5x faster in place; the
// GPT-2 block (128 rows) ran 4% slower end to end although most of its
// products alone ran faster; 1024^3 ran 18% slower.
constexpr int64_t kPackBRows = 128, kInPlaceColumns = 1024;

// Deep products walk K in blocks, so the B block of a task stays in L2 and
// the A panel in L1.
constexpr int64_t kDeepK = 1024, kBlockDepth = 512;

int64_t blockDepth(const GemmShape &shape) {
  return shape.k > kDeepK ? kBlockDepth : 0;
}

int64_t l2Columns(const GemmShape &shape) {
  int64_t depth = blockDepth(shape) ? blockDepth(shape) : shape.k;
  return kBlockBytes / (4 * std::max<int64_t>(depth, 1));
}

// The work (padded rows x columns of C) of the busiest thread when
// nyx_parallel_for hands `threads` threads contiguous runs of the tasks,
// ordered batch, row block, column block as the kernel numbers them.
int64_t busiestThread(const GemmShape &shape, const GemmSchedule &s,
                      int threads) {
  const int64_t tilesM = ceilDiv(shape.m, s.mc),
                tilesN = ceilDiv(shape.n, s.nc);
  const int64_t tasks = shape.batch * tilesM * tilesN;
  const int64_t chunks = std::clamp<int64_t>(threads, 1, tasks);
  auto work = [&](int64_t task) {
    const int64_t rowBlock = task % (tilesM * tilesN) / tilesN;
    const int64_t colBlock = task % tilesN;
    return roundUp(std::min(s.mc, shape.m - rowBlock * s.mc), s.mr) *
           roundUp(std::min(s.nc, shape.n - colBlock * s.nc), s.nr);
  };
  int64_t busiest = 0, task = 0;
  for (int64_t c = 0; c < chunks; ++c) {
    int64_t sum = 0;
    for (int64_t end = task + tasks / chunks + (c < tasks % chunks); task < end;
         ++task)
      sum += work(task);
    busiest = std::max(busiest, sum);
  }
  return busiest;
}

// A short last column block leaves threads idle while one finishes: N = 512
// in blocks of 160 gives two threads 320 and 192 columns (measured: the
// MLP's 32x784x512 product ran 25% faster at two threads in blocks of 128).
// Of the widths from half of s.nc up to s.nc, takes the widest that gives
// the busiest thread the least work.
void balanceColumnBlocks(const GemmShape &shape, GemmSchedule &s, int threads) {
  // Among many tasks a short one costs little.
  const int64_t tasks =
      shape.batch * ceilDiv(shape.m, s.mc) * ceilDiv(shape.n, s.nc);
  if (threads <= 1 || tasks == 0 || tasks >= 16 * int64_t{threads})
    return;
  GemmSchedule best = s, candidate = s;
  for (int64_t nc = s.nc - s.nr; nc >= std::max(s.nr, s.nc / 2); nc -= s.nr) {
    candidate.nc = nc;
    if (busiestThread(shape, candidate, threads) <
        busiestThread(shape, best, threads))
      best = candidate;
  }
  s = best;
}

// How many steps (halvings or doublings, a flipped choice) the blocks of
// `s` are from those of `base`.
int blockDistance(const GemmSchedule &s, const GemmSchedule &base) {
  auto steps = [](int64_t a, int64_t b) {
    return static_cast<int>(std::lround(
        std::fabs(std::log2(static_cast<double>(a) / static_cast<double>(b)))));
  };
  return (s.kc != base.kc) + (s.packA != base.packA) + (s.packB != base.packB) +
         steps(s.nc, base.nc) + steps(s.mc, base.mc);
}

// A register tile's promise: FMAs per load (each k step loads nr / lanes
// B vectors and broadcasts mr A elements for mr * nr / lanes FMAs), less
// the share of the tile that the edges of C leave as padding.
double tilePromise(const GemmShape &shape, int64_t mr, int64_t nr, int lanes) {
  const double vectors = static_cast<double>(nr / lanes);
  const double fmasPerLoad = mr * vectors / (mr + vectors);
  const double used = static_cast<double>(shape.m) / roundUp(shape.m, mr) *
                      static_cast<double>(shape.n) / roundUp(shape.n, nr);
  return fmasPerLoad * used;
}

// The candidates in the order a budget should measure them: the default,
// then every register tile (the choice that matters most) with the blocks
// nearest the default's, then each tile with blocks a step further, and so
// on; among equals the more promising tile first. A budget that runs out
// has then tried every tile rather than many blocks of a few.
std::vector<GemmSchedule> mostPromisingFirst(std::vector<GemmSchedule> all,
                                             const GemmShape &shape, int lanes,
                                             size_t limit) {
  if (all.empty())
    return all;
  const GemmSchedule base = all.front();
  std::stable_sort(all.begin() + 1, all.end(),
                   [&](const GemmSchedule &a, const GemmSchedule &b) {
                     int da = blockDistance(a, base),
                         db = blockDistance(b, base);
                     if (da != db)
                       return da < db;
                     return tilePromise(shape, a.mr, a.nr, lanes) >
                            tilePromise(shape, b.mr, b.nr, lanes);
                   });
  if (all.size() > limit)
    all.resize(limit);
  return all;
}

} // namespace

std::string GemmSchedule::str() const {
  return strCat("mr=", mr, ",nr=", nr, ",mc=", mc, ",nc=", nc,
                kc ? strCat(",kc=", kc) : "", ",pack_a=", packA ? 1 : 0,
                packB ? "" : ",pack_b=0");
}

absl::StatusOr<GemmSchedule> GemmSchedule::parse(std::string_view text) {
  std::map<std::string, int64_t, std::less<>> values;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find(',', pos);
    if (end == std::string_view::npos)
      end = text.size();
    std::string_view item = text.substr(pos, end - pos);
    size_t eq = item.find('=');
    if (eq == std::string_view::npos)
      return absl::InvalidArgumentError(strCat(
          "schedule item '", item, "' has no '='; expected key=integer"));
    std::string_view key = item.substr(0, eq), value = item.substr(eq + 1);
    int64_t v = 0;
    auto [ptr, ec] =
        std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec != std::errc() || ptr != value.data() + value.size())
      return absl::InvalidArgumentError(strCat("schedule key '", key,
                                               "' has value '", value,
                                               "'; expected an integer"));
    if (!values.emplace(std::string(key), v).second)
      return absl::InvalidArgumentError(
          strCat("schedule key '", key, "' appears twice"));
    pos = end + 1;
  }
  GemmSchedule s;
  const std::pair<std::string_view, int64_t *> keys[] = {
      {"mr", &s.mr}, {"nr", &s.nr}, {"mc", &s.mc}, {"nc", &s.nc}};
  for (auto [key, field] : keys) {
    auto it = values.find(key);
    if (it == values.end())
      return absl::InvalidArgumentError(
          strCat("schedule '", text, "' has no '", key,
                 "'; expected mr, nr, mc, nc and pack_a"));
    *field = it->second;
    values.erase(it);
  }
  if (auto kc = values.find("kc"); kc != values.end()) {
    s.kc = kc->second;
    values.erase(kc);
  }
  auto pack = values.find("pack_a");
  if (pack == values.end() || (pack->second != 0 && pack->second != 1))
    return absl::InvalidArgumentError(
        strCat("schedule '", text, "' has no pack_a of 0 or 1"));
  s.packA = pack->second == 1;
  values.erase(pack);
  if (auto packB = values.find("pack_b"); packB != values.end()) {
    if (packB->second != 0 && packB->second != 1)
      return absl::InvalidArgumentError(strCat("schedule '", text,
                                               "' has pack_b=", packB->second,
                                               "; expected 0 or 1"));
    s.packB = packB->second == 1;
    values.erase(packB);
  }
  if (!values.empty())
    return absl::InvalidArgumentError(
        strCat("schedule key '", values.begin()->first,
               "' is unknown; expected mr, nr, mc, nc, kc, pack_a and "
               "pack_b"));
  return s;
}

absl::Status validateSchedule(const GemmSchedule &s, const GemmShape &shape,
                              int lanes) {
  if (s.kc < 0)
    return absl::InvalidArgumentError(strCat("schedule ", s.str(),
                                             " has kc=", s.kc,
                                             "; expected 0 (no K blocks) "
                                             "or a block depth"));
  if (s.mr <= 0 || s.nr <= 0 || s.mc <= 0 || s.nc <= 0)
    return absl::InvalidArgumentError(
        strCat("schedule ", s.str(), " has a size <= 0; expected positive"));
  if (s.nr % lanes != 0)
    return absl::InvalidArgumentError(
        strCat("schedule ", s.str(), " has nr=", s.nr,
               "; expected a multiple of the target's ", lanes, " lanes"));
  if (shape.bBlock > 0 && s.nr % shape.bBlock != 0)
    return absl::InvalidArgumentError(strCat(
        "schedule ", s.str(), " has nr=", s.nr, "; expected a multiple of the ",
        shape.bBlock, "-column blocks of B (the filter layout)"));
  if (s.mc % s.mr != 0 || s.nc % s.nr != 0)
    return absl::InvalidArgumentError(
        strCat("schedule ", s.str(),
               " has blocks that are not whole tiles; expected mc a "
               "multiple of mr and nc a multiple of nr"));
  if (s.mr > maxRows(lanes, s.nr / lanes))
    return absl::InvalidArgumentError(
        strCat("schedule ", s.str(), " needs ", s.mr * (s.nr / lanes),
               " accumulator registers; expected at most ",
               maxRows(lanes, s.nr / lanes) * (s.nr / lanes), " with ", lanes,
               " lanes"));
  const int64_t k =
      std::max<int64_t>(s.kc ? std::min(s.kc, shape.k) : shape.k, 1);
  const int64_t nc = withinProblem(s, shape).nc;
  if (nc > kMaxScratchBytes / 4 / k)
    return absl::InvalidArgumentError(strCat(
        "schedule ", s.str(), " packs a ", k, " x ", nc,
        " block of B; expected at most ", kMaxScratchBytes >> 20, " MiB"));
  return absl::OkStatus();
}

GemmSchedule withinProblem(GemmSchedule s, const GemmShape &shape) {
  s.mc = std::min(s.mc, std::max<int64_t>(ceilDiv(shape.m, s.mr), 1) * s.mr);
  s.nc = std::min(s.nc, std::max<int64_t>(ceilDiv(shape.n, s.nr), 1) * s.nr);
  return s;
}

int vectorLanes(int vectorBits) {
  return vectorBits >= 512 ? 16 : vectorBits >= 256 ? 8 : 4;
}

// For a small convolution whose top and bottom output rows skip filter
// taps (GemmShape::pixelRowWidth at most 16): the tallest tile of 4 to 8
// rows that divides the output rows, so no tile straddles two of them,
// with `vectors` halved where that height needs it; 0 where none fits.
// ResNet-18's layer4 (7x7 outputs) skips 18% of its work in 7x32 tiles,
// which run the taps over the padding for none of their pixels (2.15 to
// 1.72 ms on one thread), and layer3 (14x14) 9%.
// Wider outputs skip too little to pay for narrower tiles: at 28 and 56
// pixels, 7x32 and 8x32 tiles ran 2 to 7% slower than 6x64 in
// bench/run conv_r18.
int64_t rowAlignedTile(const GemmShape &shape, int lanes, int64_t &vectors) {
  const int64_t width = shape.pixelRowWidth;
  if (width <= 0 || width > 16)
    return 0;
  for (int64_t rows = 8; rows >= 4; --rows) {
    if (width % rows != 0)
      continue;
    if (rows <= maxRows(lanes, vectors))
      return rows;
    const int64_t half = vectors / 2;
    if (vectors % 2 == 0 && rows <= maxRows(lanes, half) &&
        (shape.bBlock == 0 || half * lanes % shape.bBlock == 0)) {
      vectors = half;
      return rows;
    }
  }
  return 0;
}

GemmSchedule defaultSchedule(const GemmShape &shape, int lanes, int threads) {
  // Four vectors per row when N is wide (the B loads amortize over six
  // rows), fewer for narrow N so the tile is not mostly padding, and half
  // as many (with taller tiles) when that saves more than 1/16 of N in
  // padding: N = 224 is 7 tiles of 32 but 3.5 of 64.
  int64_t vectors =
      std::clamp<int64_t>(ceilDiv(shape.n, lanes), 1, lanes >= 16 ? 4 : 2);
  if (vectors % 2 == 0 && 16 * (roundUp(shape.n, vectors * lanes) -
                                roundUp(shape.n, vectors / 2 * lanes)) >
                              shape.n)
    vectors /= 2;
  // Packing B pays off only when many rows of A reuse it; for fewer, full
  // panels of a row-major B are read where they lie, with 8x32 tiles (on
  // AVX-512), which measured faster there than 6x64.
  const bool packB =
      !shape.bInPlace || shape.m >= kPackBRows || shape.n > kInPlaceColumns;
  if (!packB && lanes >= 16 && vectors == 4)
    vectors = 2;
  // Whole blocks of a blocked B.
  while (shape.bBlock > 0 && vectors * lanes % shape.bBlock != 0)
    ++vectors;
  int64_t mr = std::min(maxRows(lanes, vectors), roundUp(shape.m, 1));
  if (vectors >= 4)
    mr = std::min<int64_t>(mr, 6);
  if (!packB && vectors == 2 && lanes >= 16)
    mr = std::min<int64_t>(mr, 8);
  mr = std::clamp<int64_t>(mr, 1, 16);
  if (int64_t rows = rowAlignedTile(shape, lanes, vectors)) {
    mr = rows;
  } else {
    // A tile a row or two shorter where that pads more than 1/64 fewer of
    // M's rows: measured on M = 49 (ResNet-18's layer4 pixels) 5x64 ran 8%
    // faster than 6x64, on M = 128 (GPT-2) 4x64 ran 5% faster.
    const int64_t tallest = mr;
    for (int64_t rows = tallest - 1; rows >= std::max<int64_t>(1, tallest - 2);
         --rows)
      if (64 * (roundUp(shape.m, mr) - roundUp(shape.m, rows)) > shape.m)
        mr = rows;
  }
  int64_t nr = vectors * lanes;
  GemmSchedule s = withBlocks(shape, mr, nr, l2Columns(shape), packB, threads);
  balanceColumnBlocks(shape, s, threads);
  s.kc = blockDepth(shape);
  // Reading A in place (where the kernel can) measured faster than packing
  // it for every shape we benchmark: A's rows stream through the prefetcher.
  s.packA = false;
  return s;
}

std::vector<GemmSchedule> scheduleSpace(const GemmShape &shape, int lanes,
                                        int threads, size_t limit) {
  std::vector<GemmSchedule> out;
  auto add = [&](const GemmSchedule &s) {
    if (validateSchedule(s, shape, lanes).ok() &&
        std::find(out.begin(), out.end(), s) == out.end())
      out.push_back(s);
  };
  GemmSchedule base = defaultSchedule(shape, lanes, threads);
  add(base);
  const int64_t maxVectors = lanes >= 16 ? 4 : 3;
  std::vector<std::pair<int64_t, int64_t>> tiles;
  for (int64_t v = 1; v <= maxVectors; ++v)
    for (int64_t mr : {maxRows(lanes, v), maxRows(lanes, v) - 2,
                       std::min<int64_t>(8, maxRows(lanes, v)),
                       std::min<int64_t>(4, maxRows(lanes, v))})
      if (mr >= 1)
        tiles.emplace_back(std::min(mr, std::max<int64_t>(shape.m, 1)),
                           v * lanes);
  const int64_t l2 = l2Columns(shape);
  // K blocks of the default depth, and of half of it (or, for shallow K,
  // none and 256).
  const int64_t depth = blockDepth(shape);
  const int64_t depths[] = {depth,
                            depth ? depth / 2 : (shape.k > 256 ? 256 : 0)};
  for (auto [mr, nr] : tiles)
    for (int64_t nc : {l2, l2 / 2, 2 * l2, nr})
      for (int64_t kc : depths)
        for (bool packA : {false, true})
          for (bool packB : {base.packB, !shape.bInPlace || !base.packB}) {
            GemmSchedule s = withBlocks(shape, mr, nr, nc, packB, threads);
            s.kc = kc;
            s.packA = packA;
            add(s);
            // The same blocks with one task per row block of half the
            // rows: more, smaller tasks.
            if (s.mc > mr) {
              s.mc = roundUp(ceilDiv(s.mc, 2), mr);
              add(s);
            }
          }
  return mostPromisingFirst(std::move(out), shape, lanes, limit);
}

} // namespace nyx::kernel

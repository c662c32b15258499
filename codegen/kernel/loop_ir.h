// The kernel-level IR: a loop nest over flat buffers with scalar
// expressions. Every op (and later every fused group) lowers to one Kernel;
// each backend (codegen/cpu, later codegen/cuda) lowers Kernels.
//
// Values are immutable expression trees shared by pointer. Index arithmetic
// uses i64 expressions; element expressions use the buffer's dtype. f16 and
// bf16 are storage types: a load of one yields f32 and a store to one rounds
// from f32 (nearest even), so arithmetic on them is written in f32.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "ir/types.h"

namespace nyx::kernel {

using ir::DType;

struct Expr;
using ExprRef = std::shared_ptr<const Expr>;
struct Stmt;
using StmtRef = std::shared_ptr<const Stmt>;

// Float functions are those of C's libm, and Sigmoid is 1 / (1 + e^-x);
// Round rounds halves to even; Not is logical on bool.
enum class UnaryFn {
  Neg,
  Abs,
  Exp,
  Log,
  Log1p,
  Sqrt,
  Rsqrt,
  Tanh,
  Erf,
  Sigmoid,
  Floor,
  Ceil,
  Round,
  Sin,
  Cos,
  Tan,
  Asin,
  Acos,
  Atan,
  Sinh,
  Cosh,
  Asinh,
  Acosh,
  Atanh,
  Not
};
// The printed name of `fn`, which for the libm functions is also their
// name in C's libm ("sin", "log1p").
const char *unaryFnName(UnaryFn fn);
enum class BinaryFn { Add, Sub, Mul, Div, Rem, Pow, Max, Min, And, Or };
enum class CmpFn { Eq, Ne, Lt, Le, Gt, Ge };

// A scalar variable: a loop index (i64) or a local accumulator.
struct Var {
  int id = 0;
  DType type = DType::I64;
  std::string name; // for printing and debugging only
};

struct Expr {
  enum class Kind {
    IntConst,
    FloatConst,
    VarRef,
    Load,
    Unary,
    Binary,
    Compare,
    Select,
    Cast
  };
  Kind kind;
  DType type;                // the result's type (f32 for loads of f16/bf16)
  int64_t intValue = 0;      // IntConst (also bool: 0/1; for f16/bf16, the
                             // stored bits, see Builder::storedBits)
  double floatValue = 0;     // FloatConst
  Var var;                   // VarRef
  int buffer = -1;           // Load: index into Kernel::buffers
  UnaryFn unary{};           // Unary
  BinaryFn binary{};         // Binary
  CmpFn cmp{};               // Compare (result type Bool)
  std::vector<ExprRef> args; // Load: {index}; Unary: {a}; Binary/Compare:
                             // {a, b}; Select: {cond, a, b}; Cast: {a}
};

enum class LoopKind {
  Serial,
  Parallel, // iterations are independent; the backend may split them
            // across threads with nyx_parallel_for
};

// How a MatmulTile steps through an operand: offset(x) = x*step, or with a
// table (an i64 buffer) offset(x) = table[tableIndex + x].
struct TileStride {
  int64_t step = 0;
  int table = -1;
  ExprRef tableIndex;

  static TileStride fixed(int64_t step) { return {step, -1, nullptr}; }
  static TileStride byTable(int table, ExprRef index) {
    return {0, table, std::move(index)};
  }
};

// A MatmulTile computes a register tile of a matrix product, the inner
// step of GEMM kernels (codegen/kernel/gemm.h), which backends emit as
// vector FMAs:
//   tile[index + r*cols + c] = sum over p < extent of
//       a[aIndex + aRow(r) + aStep(p)] * b[bIndex + bRow(p) + c]
// for r < rows, c < cols, summed in increasing p, each step one fused
// multiply-add (rounded once), from 0 — or, where `accumulate` is true,
// from the tile's own values. The offsets are TileStrides: fixed strides
// for packed or plain matrices, tables where a convolution reads its
// zero-padded input in place. Where `bBlock` is set, b's columns lie in
// blocks of bBlock (a blocked conv2d filter): column c is at
// (c / bBlock) * bBlockStride + c % bBlock instead of c. Where `bCols` is
// set, b's elements at c >= bCols are not read and count as zero (a short
// last panel of B read in place). a, b and the tile are f32; the tile is
// dense, every element of it is written.
//
// With `i8Dot4`, a and b are i8 buffers and the tile is i32: each step p
// takes four consecutive bytes of each operand, and
//   tile[index + r*cols + c] = sum over p < extent, q < 4 of
//       u8(a[aIndex + aRow(r) + aStep(p) + q]) * b[bIndex + bRow(p) + 4c + q]
// where a's bytes are read as unsigned and b's are signed (the operands of
// x86's vpdpbusd), summed with wraparound. Strides count bytes; bBlock and
// bCols are not used.
struct MatmulTileArgs {
  int aBuffer = -1, bBuffer = -1;
  ExprRef aIndex, bIndex;
  int64_t rows = 0, cols = 0;
  TileStride aRow, aStep, bRow;
  int64_t bBlock = 0, bBlockStride = 0; // bBlock 0: columns contiguous
  ExprRef accumulate;                   // bool; null: never
  ExprRef bCols;                        // i64; null: all cols
  bool i8Dot4 = false;
};

struct Stmt {
  enum class Kind { Block, For, Store, Declare, Assign, If, MatmulTile };
  Kind kind;
  std::vector<StmtRef> body;   // Block: statements; For/If: body (then)
  std::vector<StmtRef> orElse; // If: else branch
  Var var;                     // For: loop index; Declare/Assign: the local
  ExprRef extent;              // For: iterates var = 0 .. extent-1 (i64)
  LoopKind loopKind = LoopKind::Serial;
  int buffer = -1; // Store; MatmulTile: the tile
  ExprRef index;   // Store: element index (i64); MatmulTile: tile offset
  std::shared_ptr<const MatmulTileArgs> tile; // MatmulTile; extent is K
  ExprRef value; // Store/Declare/Assign: value; If: condition
};

struct Buffer {
  std::string name;
  DType dtype;
  int64_t numElements = 0;
  bool isOutput = false; // written by the kernel
  // When >= 0, this buffer is the memory of buffer `sameMemoryAs` of the same
  // kernel (one value passed twice, or a result written over an operand in
  // place): the backend reads and writes it through that buffer's pointer,
  // so each memory is one pointer.
  int sameMemoryAs = -1;
  // Scratch memory of the kernel itself (packed GEMM operands), not a
  // parameter: scratch buffers come after the inputs and outputs. Each
  // thread running the kernel (each chunk of a split parallel loop) has its
  // own, so a parallel loop's iterations must not share scratch contents
  // with the code outside it. Contents start undefined.
  bool isScratch = false;
};

// A kernel is a function of its buffers, in order: inputs then outputs.
struct Kernel {
  std::string name;
  std::vector<Buffer> buffers;
  StmtRef body;
  // The buffers passed in: all but the trailing scratch buffers.
  size_t numParams() const;
  // Appends a scratch buffer of `elements` of `dtype`; returns its index.
  int addScratch(std::string name, int64_t elements, DType dtype);
};

// Builds expressions and statements; hands out fresh variable ids.
class Builder {
public:
  Builder() = default;
  // Hands out ids from `firstVarId` on, for statements added to a kernel
  // whose variables already use the ids below it.
  explicit Builder(int firstVarId) : nextVar_(firstVarId) {}

  Var newVar(DType type, std::string name);

  // Expressions.
  static ExprRef i64(int64_t v);
  // A float or integer constant; for an integer type `v` converts like
  // `cast` (truncated, saturated, NaN -> 0).
  static ExprRef constant(DType type, double v);
  static ExprRef boolean(bool v);
  // A value of storage type f16/bf16 given by its bits (what loadStored
  // yields), so constants keep every bit pattern, NaN payloads included.
  static ExprRef storedBits(DType storage, uint16_t bits);
  static ExprRef ref(const Var &v);
  // Load from a kernel buffer; `bufferDType` is the buffer's element type.
  // The value has the compute type (f32 for f16/bf16).
  static ExprRef load(int buffer, DType bufferDType, ExprRef index);
  // Load of the stored value itself (f16/bf16 stay bits), for ops that
  // move data without computing: every bit pattern, NaN payloads included,
  // survives a copy.
  static ExprRef loadStored(int buffer, DType bufferDType, ExprRef index);
  static ExprRef unary(UnaryFn fn, ExprRef a);
  static ExprRef binary(BinaryFn fn, ExprRef a, ExprRef b); // same types
  static ExprRef compare(CmpFn fn, ExprRef a, ExprRef b);
  static ExprRef select(ExprRef cond, ExprRef a, ExprRef b);
  // float->int saturates, NaN->0; x->bool is x != 0. A cast to f16/bf16
  // rounds once and yields a value of that storage type, which may be stored
  // or cast again but not computed with (this keeps f64->f16 single-rounded).
  static ExprRef cast(DType to, ExprRef a);

  // Statements.
  static StmtRef block(std::vector<StmtRef> stmts);
  static StmtRef loop(const Var &index, ExprRef extent,
                      std::vector<StmtRef> body,
                      LoopKind kind = LoopKind::Serial);
  static StmtRef store(int buffer, ExprRef index, ExprRef value);
  static StmtRef declare(const Var &local, ExprRef init);
  static StmtRef assign(const Var &local, ExprRef value);
  static StmtRef ifThen(ExprRef cond, std::vector<StmtRef> then,
                        std::vector<StmtRef> orElse = {});
  static StmtRef matmulTile(int tileBuffer, ExprRef tileIndex, ExprRef k,
                            MatmulTileArgs args);

private:
  int nextVar_ = 0;
};

// Operator sugar for the common index arithmetic.
ExprRef operator+(ExprRef a, ExprRef b);
ExprRef operator-(ExprRef a, ExprRef b);
ExprRef operator*(ExprRef a, ExprRef b);

// The type arithmetic happens in for a stored dtype (f32 for f16/bf16).
DType computeType(DType storage);

// Adds the ids of the variables `e` reads to `out`.
void usedVars(const Expr &e, std::set<int> &out);

// A readable dump, for `--emit=kernel` and tests.
std::string print(const Kernel &kernel);

} // namespace nyx::kernel

#include "codegen/kernel/loop_ir.h"

#include "ir/strings.h"
#include "ir/tensor.h"

#include <cassert>
#include <cmath>
#include <limits>
#include <sstream>

namespace nyx::kernel {

namespace {

std::shared_ptr<Expr> makeExpr(Expr::Kind kind, DType type) {
  auto e = std::make_shared<Expr>();
  e->kind = kind;
  e->type = type;
  return e;
}

std::shared_ptr<Stmt> makeStmt(Stmt::Kind kind) {
  auto s = std::make_shared<Stmt>();
  s->kind = kind;
  return s;
}

bool isIntConst(const ExprRef &e, int64_t v) {
  return e->kind == Expr::Kind::IntConst && e->intValue == v;
}

bool bothIntConst(const ExprRef &a, const ExprRef &b) {
  return a->kind == Expr::Kind::IntConst && b->kind == Expr::Kind::IntConst &&
         a->type == DType::I64 && b->type == DType::I64;
}

} // namespace

DType computeType(DType storage) {
  return storage == DType::F16 || storage == DType::BF16 ? DType::F32 : storage;
}

Var Builder::newVar(DType type, std::string name) {
  Var v;
  v.id = nextVar_++;
  v.type = type;
  v.name = std::move(name);
  return v;
}

ExprRef Builder::i64(int64_t v) {
  auto e = makeExpr(Expr::Kind::IntConst, DType::I64);
  e->intValue = v;
  return e;
}

ExprRef Builder::constant(DType type, double v) {
  DType t = computeType(type);
  if (ir::isFloat(t)) {
    auto e = makeExpr(Expr::Kind::FloatConst, t);
    e->floatValue = v;
    return e;
  }
  if (t == DType::Bool)
    return boolean(v != 0);
  auto e = makeExpr(Expr::Kind::IntConst, t);
  e->intValue = ir::floatToInteger(v, t);
  return e;
}

ExprRef Builder::boolean(bool v) {
  auto e = makeExpr(Expr::Kind::IntConst, DType::Bool);
  e->intValue = v ? 1 : 0;
  return e;
}

ExprRef Builder::storedBits(DType storage, uint16_t bits) {
  assert((storage == DType::F16 || storage == DType::BF16) &&
         "stored bits of a type that is not a storage type");
  auto e = makeExpr(Expr::Kind::IntConst, storage);
  // Sign-extended, like every other IntConst of its width.
  e->intValue = static_cast<int16_t>(bits);
  return e;
}

ExprRef Builder::ref(const Var &v) {
  auto e = makeExpr(Expr::Kind::VarRef, v.type);
  e->var = v;
  return e;
}

ExprRef Builder::load(int buffer, DType bufferDType, ExprRef index) {
  auto e = makeExpr(Expr::Kind::Load, computeType(bufferDType));
  e->buffer = buffer;
  e->args = {std::move(index)};
  return e;
}

ExprRef Builder::loadStored(int buffer, DType bufferDType, ExprRef index) {
  auto e = makeExpr(Expr::Kind::Load, bufferDType);
  e->buffer = buffer;
  e->args = {std::move(index)};
  return e;
}

ExprRef Builder::unary(UnaryFn fn, ExprRef a) {
  auto e = makeExpr(Expr::Kind::Unary, a->type);
  e->unary = fn;
  e->args = {std::move(a)};
  return e;
}

ExprRef Builder::binary(BinaryFn fn, ExprRef a, ExprRef b) {
  assert(a->type == b->type && "binary operands of different types");
  auto e = makeExpr(Expr::Kind::Binary, a->type);
  e->binary = fn;
  e->args = {std::move(a), std::move(b)};
  return e;
}

ExprRef Builder::compare(CmpFn fn, ExprRef a, ExprRef b) {
  assert(a->type == b->type && "compare operands of different types");
  auto e = makeExpr(Expr::Kind::Compare, DType::Bool);
  e->cmp = fn;
  e->args = {std::move(a), std::move(b)};
  return e;
}

ExprRef Builder::select(ExprRef cond, ExprRef a, ExprRef b) {
  assert(cond->type == DType::Bool && "select condition is not bool");
  assert(a->type == b->type && "select arms of different types");
  auto e = makeExpr(Expr::Kind::Select, a->type);
  e->args = {std::move(cond), std::move(a), std::move(b)};
  return e;
}

ExprRef Builder::cast(DType to, ExprRef a) {
  if (a->type == to)
    return a;
  auto e = makeExpr(Expr::Kind::Cast, to);
  e->args = {std::move(a)};
  return e;
}

StmtRef Builder::block(std::vector<StmtRef> stmts) {
  auto s = makeStmt(Stmt::Kind::Block);
  s->body = std::move(stmts);
  return s;
}

StmtRef Builder::loop(const Var &index, ExprRef extent,
                      std::vector<StmtRef> body, LoopKind kind) {
  auto s = makeStmt(Stmt::Kind::For);
  s->var = index;
  s->extent = std::move(extent);
  s->body = std::move(body);
  s->loopKind = kind;
  return s;
}

StmtRef Builder::store(int buffer, ExprRef index, ExprRef value) {
  auto s = makeStmt(Stmt::Kind::Store);
  s->buffer = buffer;
  s->index = std::move(index);
  s->value = std::move(value);
  return s;
}

StmtRef Builder::declare(const Var &local, ExprRef init) {
  auto s = makeStmt(Stmt::Kind::Declare);
  s->var = local;
  s->value = std::move(init);
  return s;
}

StmtRef Builder::assign(const Var &local, ExprRef value) {
  auto s = makeStmt(Stmt::Kind::Assign);
  s->var = local;
  s->value = std::move(value);
  return s;
}

StmtRef Builder::ifThen(ExprRef cond, std::vector<StmtRef> then,
                        std::vector<StmtRef> orElse) {
  auto s = makeStmt(Stmt::Kind::If);
  s->value = std::move(cond);
  s->body = std::move(then);
  s->orElse = std::move(orElse);
  return s;
}

StmtRef Builder::matmulTile(int tileBuffer, ExprRef tileIndex, ExprRef k,
                            MatmulTileArgs args) {
  auto s = makeStmt(Stmt::Kind::MatmulTile);
  s->buffer = tileBuffer;
  s->index = std::move(tileIndex);
  s->extent = std::move(k);
  s->tile = std::make_shared<const MatmulTileArgs>(std::move(args));
  return s;
}

size_t Kernel::numParams() const {
  size_t n = buffers.size();
  while (n > 0 && buffers[n - 1].isScratch)
    --n;
  return n;
}

int Kernel::addScratch(std::string name, int64_t elements, DType dtype) {
  Buffer buf;
  buf.name = std::move(name);
  buf.dtype = dtype;
  buf.numElements = elements;
  buf.isScratch = true;
  buffers.push_back(std::move(buf));
  return static_cast<int>(buffers.size()) - 1;
}

// The sugar folds constants and identities so printed kernels stay readable
// (broadcast index arithmetic produces many `* 1` and `+ 0`).
ExprRef operator+(ExprRef a, ExprRef b) {
  if (bothIntConst(a, b))
    return Builder::i64(
        static_cast<int64_t>(static_cast<uint64_t>(a->intValue) +
                             static_cast<uint64_t>(b->intValue)));
  if (isIntConst(a, 0) && a->type == b->type)
    return b;
  if (isIntConst(b, 0) && a->type == b->type)
    return a;
  return Builder::binary(BinaryFn::Add, std::move(a), std::move(b));
}

ExprRef operator-(ExprRef a, ExprRef b) {
  if (bothIntConst(a, b))
    return Builder::i64(
        static_cast<int64_t>(static_cast<uint64_t>(a->intValue) -
                             static_cast<uint64_t>(b->intValue)));
  if (isIntConst(b, 0) && a->type == b->type)
    return a;
  return Builder::binary(BinaryFn::Sub, std::move(a), std::move(b));
}

ExprRef operator*(ExprRef a, ExprRef b) {
  if (bothIntConst(a, b))
    return Builder::i64(
        static_cast<int64_t>(static_cast<uint64_t>(a->intValue) *
                             static_cast<uint64_t>(b->intValue)));
  if (a->type == b->type &&
      (a->kind == Expr::Kind::IntConst || b->kind == Expr::Kind::IntConst)) {
    if (isIntConst(a, 1))
      return b;
    if (isIntConst(b, 1))
      return a;
    if (isIntConst(a, 0) || isIntConst(b, 0))
      return a->type == DType::I64 ? Builder::i64(0)
                                   : Builder::constant(a->type, 0);
  }
  return Builder::binary(BinaryFn::Mul, std::move(a), std::move(b));
}

// ---------------------------------------------------------------------------
// Printing.

const char *unaryFnName(UnaryFn fn) {
  switch (fn) {
  case UnaryFn::Neg:
    return "neg";
  case UnaryFn::Abs:
    return "abs";
  case UnaryFn::Exp:
    return "exp";
  case UnaryFn::Log:
    return "log";
  case UnaryFn::Sqrt:
    return "sqrt";
  case UnaryFn::Rsqrt:
    return "rsqrt";
  case UnaryFn::Tanh:
    return "tanh";
  case UnaryFn::Erf:
    return "erf";
  case UnaryFn::Sigmoid:
    return "sigmoid";
  case UnaryFn::Log1p:
    return "log1p";
  case UnaryFn::Floor:
    return "floor";
  case UnaryFn::Ceil:
    return "ceil";
  case UnaryFn::Round:
    return "round";
  case UnaryFn::Sin:
    return "sin";
  case UnaryFn::Cos:
    return "cos";
  case UnaryFn::Tan:
    return "tan";
  case UnaryFn::Asin:
    return "asin";
  case UnaryFn::Acos:
    return "acos";
  case UnaryFn::Atan:
    return "atan";
  case UnaryFn::Sinh:
    return "sinh";
  case UnaryFn::Cosh:
    return "cosh";
  case UnaryFn::Asinh:
    return "asinh";
  case UnaryFn::Acosh:
    return "acosh";
  case UnaryFn::Atanh:
    return "atanh";
  case UnaryFn::Not:
    return "not";
  }
  return "?";
}

namespace {

// Infix spelling for the arithmetic, a call for the rest.
const char *binaryInfix(BinaryFn fn) {
  switch (fn) {
  case BinaryFn::Add:
    return "+";
  case BinaryFn::Sub:
    return "-";
  case BinaryFn::Mul:
    return "*";
  case BinaryFn::Div:
    return "/";
  case BinaryFn::Rem:
    return "%";
  case BinaryFn::And:
    return "&";
  case BinaryFn::Or:
    return "|";
  default:
    return nullptr;
  }
}

const char *binaryName(BinaryFn fn) {
  switch (fn) {
  case BinaryFn::Pow:
    return "pow";
  case BinaryFn::Max:
    return "max";
  case BinaryFn::Min:
    return "min";
  default:
    return binaryInfix(fn);
  }
}

const char *cmpInfix(CmpFn fn) {
  switch (fn) {
  case CmpFn::Eq:
    return "==";
  case CmpFn::Ne:
    return "!=";
  case CmpFn::Lt:
    return "<";
  case CmpFn::Le:
    return "<=";
  case CmpFn::Gt:
    return ">";
  case CmpFn::Ge:
    return ">=";
  }
  return "?";
}

const char *loopKindName(LoopKind kind) {
  return kind == LoopKind::Parallel ? "parallel for" : "for";
}

class Printer {
public:
  explicit Printer(const Kernel &k) : kernel_(k) {}

  std::string run() {
    os_ << "kernel " << kernel_.name << "(";
    for (size_t i = 0; i < kernel_.numParams(); ++i) {
      const Buffer &b = kernel_.buffers[i];
      os_ << (i ? ", " : "") << (b.isOutput ? "out " : "") << b.name << ": "
          << ir::dtypeName(b.dtype) << "[" << b.numElements << "]";
    }
    os_ << ") {\n";
    for (size_t i = kernel_.numParams(); i < kernel_.buffers.size(); ++i) {
      const Buffer &b = kernel_.buffers[i];
      os_ << "  scratch " << b.name << ": " << ir::dtypeName(b.dtype) << "["
          << b.numElements << "]\n";
    }
    if (kernel_.body)
      stmt(*kernel_.body, 1);
    os_ << "}\n";
    return os_.str();
  }

private:
  std::string varName(const Var &v) {
    return (v.name.empty() ? "v" : v.name) + "." + std::to_string(v.id);
  }

  std::string bufferName(int b) {
    if (b >= 0 && b < static_cast<int>(kernel_.buffers.size()))
      return kernel_.buffers[b].name;
    return "<buffer " + std::to_string(b) + ">";
  }

  std::string expr(const Expr &e) {
    std::ostringstream s;
    switch (e.kind) {
    case Expr::Kind::IntConst:
      if (e.type == DType::Bool)
        s << (e.intValue ? "true" : "false");
      else if (e.type == DType::F16 || e.type == DType::BF16)
        s << "0x" << std::hex << static_cast<uint16_t>(e.intValue) << std::dec
          << ":" << ir::dtypeName(e.type);
      else if (e.type == DType::I64)
        s << e.intValue;
      else
        s << e.intValue << ":" << ir::dtypeName(e.type);
      break;
    case Expr::Kind::FloatConst: {
      std::ostringstream v;
      v.precision(std::numeric_limits<double>::max_digits10);
      v << e.floatValue;
      std::string text = v.str();
      if (std::isfinite(e.floatValue) &&
          text.find_first_of(".en") == std::string::npos)
        text += ".0";
      s << text << ":" << ir::dtypeName(e.type);
      break;
    }
    case Expr::Kind::VarRef:
      s << varName(e.var);
      break;
    case Expr::Kind::Load:
      s << bufferName(e.buffer) << "[" << expr(*e.args[0]) << "]";
      break;
    case Expr::Kind::Unary:
      s << unaryFnName(e.unary) << "(" << expr(*e.args[0]) << ")";
      break;
    case Expr::Kind::Binary:
      if (const char *op = binaryInfix(e.binary))
        s << "(" << expr(*e.args[0]) << " " << op << " " << expr(*e.args[1])
          << ")";
      else
        s << binaryName(e.binary) << "(" << expr(*e.args[0]) << ", "
          << expr(*e.args[1]) << ")";
      break;
    case Expr::Kind::Compare:
      s << "(" << expr(*e.args[0]) << " " << cmpInfix(e.cmp) << " "
        << expr(*e.args[1]) << ")";
      break;
    case Expr::Kind::Select:
      s << "select(" << expr(*e.args[0]) << ", " << expr(*e.args[1]) << ", "
        << expr(*e.args[2]) << ")";
      break;
    case Expr::Kind::Cast:
      s << ir::dtypeName(e.type) << "(" << expr(*e.args[0]) << ")";
      break;
    }
    return s.str();
  }

  void indent(int depth) {
    for (int i = 0; i < depth; ++i)
      os_ << "  ";
  }

  void stmts(const std::vector<StmtRef> &list, int depth) {
    for (const StmtRef &s : list)
      stmt(*s, depth);
  }

  void stmt(const Stmt &s, int depth) {
    switch (s.kind) {
    case Stmt::Kind::Block:
      stmts(s.body, depth);
      return;
    case Stmt::Kind::For:
      indent(depth);
      os_ << loopKindName(s.loopKind) << " " << varName(s.var) << " in 0.."
          << expr(*s.extent) << " {\n";
      stmts(s.body, depth + 1);
      indent(depth);
      os_ << "}\n";
      return;
    case Stmt::Kind::Store:
      indent(depth);
      os_ << bufferName(s.buffer) << "[" << expr(*s.index)
          << "] = " << expr(*s.value) << "\n";
      return;
    case Stmt::Kind::Declare:
      indent(depth);
      os_ << "var " << varName(s.var) << ": " << ir::dtypeName(s.var.type)
          << " = " << expr(*s.value) << "\n";
      return;
    case Stmt::Kind::Assign:
      indent(depth);
      os_ << varName(s.var) << " = " << expr(*s.value) << "\n";
      return;
    case Stmt::Kind::If:
      indent(depth);
      os_ << "if " << expr(*s.value) << " {\n";
      stmts(s.body, depth + 1);
      if (!s.orElse.empty()) {
        indent(depth);
        os_ << "} else {\n";
        stmts(s.orElse, depth + 1);
      }
      indent(depth);
      os_ << "}\n";
      return;
    case Stmt::Kind::MatmulTile: {
      const MatmulTileArgs &t = *s.tile;
      auto offset = [&](const TileStride &st, const char *x) {
        if (st.table >= 0)
          return strCat(bufferName(st.table), "[", expr(*st.tableIndex), " + ",
                        x, "]");
        return strCat(x, "*", st.step);
      };
      indent(depth);
      os_ << bufferName(s.buffer) << "[" << expr(*s.index) << " : " << t.rows
          << "x" << t.cols
          << "] = " << (t.i8Dot4 ? "matmul_tile_i8(" : "matmul_tile(")
          << bufferName(t.aBuffer) << "[" << expr(*t.aIndex) << " + "
          << offset(t.aRow, "r") << " + " << offset(t.aStep, "p") << "], "
          << bufferName(t.bBuffer) << "[" << expr(*t.bIndex) << " + "
          << offset(t.bRow, "p") << " + "
          << (t.bBlock ? strCat("(c/", t.bBlock, ")*", t.bBlockStride, " + c%",
                                t.bBlock)
              : t.i8Dot4 ? std::string("c*4")
                         : std::string("c"))
          << "], p < " << expr(*s.extent);
      if (t.bCols)
        os_ << ", c < " << expr(*t.bCols);
      if (t.accumulate)
        os_ << ", accumulate if " << expr(*t.accumulate);
      os_ << ")\n";
      return;
    }
    }
  }

  const Kernel &kernel_;
  std::ostringstream os_;
};

} // namespace

std::string print(const Kernel &kernel) { return Printer(kernel).run(); }

void usedVars(const Expr &e, std::set<int> &out) {
  if (e.kind == Expr::Kind::VarRef)
    out.insert(e.var.id);
  for (const ExprRef &a : e.args)
    usedVars(*a, out);
}

} // namespace nyx::kernel

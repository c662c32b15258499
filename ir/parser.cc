#include "ir/parser.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>

#include "ir/diagnostic.h"
#include "ir/half.h"
#include "ir/lexer.h"
#include "ir/op_registry.h"
#include "ir/status_macros.h"
#include "ir/strings.h"
#include "ir/verifier.h"

namespace nyx::ir {

static std::string dtypeList() {
  std::vector<std::string_view> names;
  for (DType t : kAllDTypes)
    names.push_back(dtypeName(t));
  return strJoin(names, ", ");
}

std::string defaultModuleName(std::string_view filename) {
  if (filename.empty() || filename == "-" || filename.front() == '<')
    return "model";
  size_t slash = filename.find_last_of('/');
  std::string_view base =
      slash == std::string_view::npos ? filename : filename.substr(slash + 1);
  size_t dot = base.find('.');
  std::string_view stem = base.substr(0, dot);
  std::string name;
  for (char c : stem)
    name += std::isalnum(static_cast<unsigned char>(c)) || c == '_' ? c : '_';
  if (name.empty())
    return "model";
  if (std::isdigit(static_cast<unsigned char>(name[0])))
    name = "_" + name;
  return name;
}

// ---- Literal values --------------------------------------------------------

static bool isSpecialFloat(std::string_view s) {
  return s == "inf" || s == "-inf" || s == "nan" || s == "-nan";
}

// A float literal as a double; overflow is an error, underflow rounds.
static absl::StatusOr<double> parseDouble(std::string_view s) {
  if (s == "inf")
    return std::numeric_limits<double>::infinity();
  if (s == "-inf")
    return -std::numeric_limits<double>::infinity();
  if (s == "nan")
    return std::numeric_limits<double>::quiet_NaN();
  if (s == "-nan")
    return -std::numeric_limits<double>::quiet_NaN();
  double v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec == std::errc() && r.ptr == s.data() + s.size())
    return v;
  if (r.ec == std::errc::result_out_of_range) {
    std::string copy(s);
    v = std::strtod(copy.c_str(), nullptr);
    if (!std::isinf(v))
      return v; // underflow: the nearest representable value
  }
  return absl::InvalidArgumentError(
      strCat("number ", s, " is out of range for f64"));
}

// A float literal rounded once to f32 (a double first only when from_chars
// reports a subnormal or zero result, which it treats as a range error).
static absl::StatusOr<float> parseFloat32(std::string_view s) {
  if (isSpecialFloat(s)) {
    auto d = parseDouble(s);
    return static_cast<float>(*d);
  }
  float v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec == std::errc() && r.ptr == s.data() + s.size())
    return v;
  auto d = parseDouble(s);
  if (d.ok() && std::fabs(*d) <= std::numeric_limits<float>::max())
    return static_cast<float>(*d);
  return absl::InvalidArgumentError(
      strCat("number ", s, " is out of range for f32"));
}

static absl::StatusOr<int64_t> parseInt64(std::string_view s) {
  int64_t v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec == std::errc() && r.ptr == s.data() + s.size())
    return v;
  return absl::InvalidArgumentError(
      strCat("integer ", s, " does not fit in 64 bits"));
}

static void storeBits(Tensor &t, int64_t i, uint64_t bits) {
  size_t size = dtypeSize(t.dtype());
  std::memcpy(t.bytes() + i * size, &bits, size); // little-endian host
}

absl::Status setElementFromText(Tensor &t, int64_t i, std::string_view text) {
  DType dt = t.dtype();
  std::string_view dname = dtypeName(dt);
  bool isBool = text == "true" || text == "false";
  bool isHex =
      text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
  bool isFloatText = !isHex && (isSpecialFloat(text) ||
                                text.find_first_of(".eE") != text.npos);
  if (dt == DType::Bool) {
    if (!isBool)
      return absl::InvalidArgumentError(
          strCat("expected true or false for a bool element, found ", text));
    t.setInt(i, text == "true");
    return absl::OkStatus();
  }
  if (isBool)
    return absl::InvalidArgumentError(
        strCat("expected a number for an ", dname, " element, found ", text));
  if (isInteger(dt)) {
    if (isFloatText || isHex)
      return absl::InvalidArgumentError(strCat(
          "expected an integer for an ", dname, " element, found ", text));
    auto v = parseInt64(text);
    if (!v.ok())
      return v.status();
    int64_t lo = dt == DType::I8    ? INT8_MIN
                 : dt == DType::I32 ? INT32_MIN
                                    : INT64_MIN;
    int64_t hi = dt == DType::I8    ? INT8_MAX
                 : dt == DType::I32 ? INT32_MAX
                                    : INT64_MAX;
    if (*v < lo || *v > hi)
      return absl::InvalidArgumentError(strCat("element ", text,
                                               " is out of range for ", dname,
                                               " (", lo, " to ", hi, ")"));
    t.setInt(i, *v);
    return absl::OkStatus();
  }
  // Float dtypes.
  size_t bits = dtypeSize(dt) * 8;
  if (isHex) {
    uint64_t raw = 0;
    auto r =
        std::from_chars(text.data() + 2, text.data() + text.size(), raw, 16);
    if (r.ec != std::errc() || r.ptr != text.data() + text.size() ||
        (bits < 64 && raw >> bits))
      return absl::InvalidArgumentError(
          strCat("bit pattern ", text, " does not fit in the ", bits,
                 " bits of an ", dname, " element"));
    storeBits(t, i, raw);
    return absl::OkStatus();
  }
  if (text == "nan" || text == "-nan") {
    uint64_t sign = text[0] == '-' ? uint64_t(1) << (bits - 1) : 0;
    storeBits(t, i, canonicalNaNBits(dt) | sign);
    return absl::OkStatus();
  }
  if (dt == DType::F64) {
    auto v = parseDouble(text);
    if (!v.ok())
      return v.status();
    t.setDouble(i, *v);
    return absl::OkStatus();
  }
  auto f = parseFloat32(text);
  if (!f.ok())
    return f.status();
  if (dt == DType::F32) {
    t.setDouble(i, *f);
    return absl::OkStatus();
  }
  uint16_t h = dt == DType::F16 ? floatToHalf(*f) : floatToBf16(*f);
  float back = dt == DType::F16 ? halfToFloat(h) : bf16ToFloat(h);
  if (std::isinf(back) && !std::isinf(*f))
    return absl::InvalidArgumentError(
        strCat("number ", text, " is out of range for ", dname));
  storeBits(t, i, h);
  return absl::OkStatus();
}

// ---- The parser ------------------------------------------------------------

namespace {

// A dense literal as written; its type is known only once the op's result
// types are parsed.
struct DenseLiteral {
  bool isList = false;
  Token element; // when !isList
  std::vector<DenseLiteral> items;
  Loc loc;
};

struct PendingDense {
  std::string key;
  DenseLiteral literal;
  std::optional<TensorType> type;
  Loc loc;
};

struct NamedValue {
  Value *value;
  Loc loc;
};

class Parser {
public:
  Parser(std::vector<Token> tokens, std::string_view filename)
      : toks_(std::move(tokens)), filename_(filename) {}

  absl::StatusOr<std::unique_ptr<Module>> run() {
    module_ = std::make_unique<Module>();
    module_->filename = std::string(filename_);
    module_->name = defaultModuleName(filename_);
    NYX_RETURN_IF_ERROR(parseTopLevel());
    for (const PendingBody &body : bodies_) {
      pos_ = body.firstToken;
      NYX_RETURN_IF_ERROR(parseBody(*body.function, body.paramLocs));
    }
    NYX_RETURN_IF_ERROR(verifyModule(*module_));
    return std::move(module_);
  }

  absl::StatusOr<Attribute> runAttribute() {
    Attribute out;
    if (atWord("dense")) {
      PendingDense p;
      NYX_RETURN_IF_ERROR(parseDense(p));
      if (!p.type)
        return error(p.loc, "dense literal has no type; expected "
                            "dense<...> : TYPE");
      NYX_RETURN_IF_ERROR(checkConstant(p));
      auto t = std::make_shared<Tensor>(*p.type);
      int64_t nextIndex = 0;
      NYX_RETURN_IF_ERROR(fillDense(p.literal, *t, 0, nextIndex));
      out = std::shared_ptr<const Tensor>(std::move(t));
    } else {
      NYX_RETURN_IF_ERROR(parseAttrValue(out));
    }
    if (!at(TokenKind::Eof))
      return unexpected("end of input after the attribute");
    return out;
  }

private:
  struct PendingBody {
    Function *function;
    size_t firstToken; // the token after '{'
    std::vector<Loc> paramLocs;
  };

  const Token &peek() const { return toks_[pos_]; }
  const Token &next() {
    const Token &t = toks_[pos_];
    if (t.kind != TokenKind::Eof)
      ++pos_;
    return t;
  }
  bool at(TokenKind k) const { return peek().kind == k; }
  bool atWord(std::string_view w) const {
    return at(TokenKind::Ident) && peek().text == w;
  }
  bool consume(TokenKind k) {
    if (!at(k))
      return false;
    next();
    return true;
  }

  absl::Status error(Loc loc, std::string_view msg) const {
    return errorAt(filename_, loc, msg);
  }
  absl::Status unexpected(std::string_view expected) const {
    return error(peek().loc, strCat("expected ", expected, ", found ",
                                    describeToken(peek())));
  }
  absl::Status expect(TokenKind k, std::string_view expected) {
    if (!at(k))
      return unexpected(expected);
    next();
    return absl::OkStatus();
  }

  // ---- module structure ----------------------------------------------------

  absl::Status parseTopLevel() {
    if (atWord("module")) {
      next();
      if (!at(TokenKind::Symbol))
        return unexpected("the module name (@name) after 'module'");
      const Token &name = next();
      if (!isIdentifier(name.text))
        return error(name.loc,
                     strCat("module name @", formatName(name.text),
                            " is not a C identifier; expected letters, "
                            "digits and '_', not starting with a digit"));
      module_->name = name.text;
    }
    while (!at(TokenKind::Eof)) {
      if (atWord("param")) {
        NYX_RETURN_IF_ERROR(parseParamDecl());
      } else if (atWord("func") || atWord("kernel")) {
        NYX_RETURN_IF_ERROR(parseFunctionHeader());
      } else if (atWord("module")) {
        return error(peek().loc, "'module' must come first and only once; "
                                 "expected 'param', 'func' or 'kernel'");
      } else {
        return unexpected("'param', 'func' or 'kernel'");
      }
    }
    return absl::OkStatus();
  }

  absl::Status parseParamDecl() {
    Loc loc = next().loc;
    if (!at(TokenKind::Symbol))
      return unexpected("the param name (@name) after 'param'");
    const Token &name = next();
    if (const Param *prev = module_->lookupParam(name.text))
      return error(name.loc, strCat("param @", formatName(name.text),
                                    " is already declared at ", prev->loc.line,
                                    ":", prev->loc.col));
    NYX_RETURN_IF_ERROR(
        expect(TokenKind::Colon, "':' and a type after the param name"));
    TensorType type;
    NYX_RETURN_IF_ERROR(parseType(type));
    module_->params.push_back({name.text, std::move(type), loc});
    return absl::OkStatus();
  }

  absl::Status parseFunctionHeader() {
    const Token &keyword = next();
    Loc loc = keyword.loc;
    bool isKernel = keyword.text == "kernel";
    if (!at(TokenKind::Symbol))
      return unexpected(
          strCat("the function name (@name) after '", keyword.text, "'"));
    const Token &name = next();
    if (Function *prev = module_->lookupFunction(name.text))
      return error(name.loc, strCat("function @", formatName(name.text),
                                    " is already defined at ", prev->loc.line,
                                    ":", prev->loc.col));
    Function *f = module_->addFunction(name.text);
    f->loc = loc;
    f->isKernel = isKernel;
    PendingBody body{f, 0, {}};
    std::map<std::string, Loc, std::less<>> seen;
    NYX_RETURN_IF_ERROR(
        expect(TokenKind::LParen, "'(' before the function parameters"));
    if (!at(TokenKind::RParen)) {
      do {
        if (!at(TokenKind::ValueName))
          return unexpected("a parameter (%name: type)");
        const Token &p = next();
        if (auto it = seen.find(p.text); it != seen.end())
          return error(p.loc, strCat("value %", formatName(p.text),
                                     " is already defined at ", it->second.line,
                                     ":", it->second.col));
        seen[p.text] = p.loc;
        NYX_RETURN_IF_ERROR(
            expect(TokenKind::Colon, "':' and a type after the parameter"));
        TensorType type;
        NYX_RETURN_IF_ERROR(parseType(type));
        f->addParam(p.text, std::move(type));
        body.paramLocs.push_back(p.loc);
      } while (consume(TokenKind::Comma));
    }
    NYX_RETURN_IF_ERROR(
        expect(TokenKind::RParen, "',' or ')' after a parameter"));
    NYX_RETURN_IF_ERROR(expect(TokenKind::Arrow, "'->' and the result types"));
    NYX_RETURN_IF_ERROR(
        expect(TokenKind::LParen, "'(' before the result types"));
    if (!at(TokenKind::RParen)) {
      do {
        TensorType type;
        NYX_RETURN_IF_ERROR(parseType(type));
        f->resultTypes.push_back(std::move(type));
      } while (consume(TokenKind::Comma));
    }
    NYX_RETURN_IF_ERROR(
        expect(TokenKind::RParen, "',' or ')' after a result type"));
    NYX_RETURN_IF_ERROR(
        expect(TokenKind::LBrace, "'{' to open the function body"));
    body.firstToken = pos_;
    // Bodies are parsed once every signature is known, so a call may name a
    // function defined further down.
    int depth = 1;
    while (depth > 0) {
      if (at(TokenKind::Eof))
        return error(peek().loc,
                     strCat("expected '}' to close function @",
                            formatName(f->name), ", found end of input"));
      if (at(TokenKind::LBrace))
        ++depth;
      else if (at(TokenKind::RBrace))
        --depth;
      next();
    }
    bodies_.push_back(std::move(body));
    return absl::OkStatus();
  }

  absl::Status parseType(TensorType &type) {
    if (!at(TokenKind::Ident))
      return unexpected("a type such as f32[2,3]");
    const Token &dt = next();
    std::optional<DType> d = parseDType(dt.text);
    if (!d)
      return error(dt.loc, strCat("unknown dtype '", dt.text,
                                  "'; expected one of ", dtypeList()));
    type.dtype = *d;
    type.shape.clear();
    NYX_RETURN_IF_ERROR(expect(TokenKind::LBracket,
                               strCat("'[' and the shape after ", dt.text)));
    if (!at(TokenKind::RBracket)) {
      do {
        if (!at(TokenKind::Integer))
          return unexpected("a dimension (a non-negative integer)");
        const Token &dim = next();
        auto v = parseInt64(dim.text);
        if (!v.ok())
          return error(dim.loc, std::string(v.status().message()));
        if (*v < 0)
          return error(dim.loc, strCat("dimension ", dim.text,
                                       " is negative; expected a "
                                       "non-negative integer"));
        type.shape.push_back(*v);
      } while (consume(TokenKind::Comma));
    }
    NYX_RETURN_IF_ERROR(
        expect(TokenKind::RBracket, "',' or ']' after a dimension"));
    if (absl::Status s = checkTensorType(type); !s.ok())
      return error(dt.loc, std::string(s.message()));
    return absl::OkStatus();
  }

  // ---- function bodies -----------------------------------------------------

  absl::Status parseBody(Function &f, const std::vector<Loc> &paramLocs) {
    scope_.clear();
    for (size_t i = 0; i < f.params.size(); ++i)
      scope_[f.params[i]->name] = {f.params[i], paramLocs[i]};
    while (true) {
      if (atWord("return"))
        return parseReturn(f);
      if (at(TokenKind::RBrace))
        return error(peek().loc,
                     strCat("function @", formatName(f.name),
                            " has no return; expected 'return' as the last "
                            "statement of the body"));
      NYX_RETURN_IF_ERROR(parseOp(f));
    }
  }

  absl::Status parseReturn(Function &f) {
    f.returnLoc = next().loc;
    std::vector<Loc> locs;
    if (at(TokenKind::ValueName)) {
      do {
        Value *v = nullptr;
        Loc loc = peek().loc;
        NYX_RETURN_IF_ERROR(parseOperand(v));
        f.returns.push_back(v);
        locs.push_back(loc);
      } while (consume(TokenKind::Comma));
    }
    if (f.returns.size() != f.resultTypes.size())
      return error(f.returnLoc,
                   strCat("return has ", f.returns.size(), " value",
                          f.returns.size() == 1 ? "" : "s", "; expected ",
                          f.resultTypes.size(), " (the results of @",
                          formatName(f.name), ")"));
    for (size_t i = 0; i < f.returns.size(); ++i)
      if (!(f.returns[i]->type == f.resultTypes[i]))
        return error(locs[i],
                     strCat("returned value %", formatName(f.returns[i]->name),
                            " has type ", f.returns[i]->type.str(),
                            "; expected ", f.resultTypes[i].str(), " (result ",
                            i, " of @", formatName(f.name), ")"));
    if (!at(TokenKind::RBrace))
      return unexpected("'}' after the return (return ends the body)");
    next();
    return absl::OkStatus();
  }

  absl::Status parseOperand(Value *&v) {
    if (!at(TokenKind::ValueName))
      return unexpected("a value (%name)");
    const Token &tok = next();
    auto it = scope_.find(tok.text);
    if (it == scope_.end())
      return error(tok.loc,
                   strCat("use of undefined value %", formatName(tok.text)));
    v = it->second.value;
    return absl::OkStatus();
  }

  absl::Status parseOp(Function &f) {
    std::vector<std::string> names;
    std::vector<Loc> nameLocs;
    if (at(TokenKind::ValueName)) {
      do {
        if (!at(TokenKind::ValueName))
          return unexpected("a result name (%name)");
        const Token &tok = next();
        Loc prev;
        if (auto it = scope_.find(tok.text); it != scope_.end())
          prev = it->second.loc;
        for (size_t i = 0; i < names.size(); ++i)
          if (names[i] == tok.text)
            prev = nameLocs[i];
        if (prev.known())
          return error(tok.loc, strCat("value %", formatName(tok.text),
                                       " is already defined at ", prev.line,
                                       ":", prev.col));
        names.push_back(tok.text);
        nameLocs.push_back(tok.loc);
      } while (consume(TokenKind::Comma));
      NYX_RETURN_IF_ERROR(
          expect(TokenKind::Equal, "'=' after the result names"));
    }
    if (!at(TokenKind::Ident))
      return unexpected(names.empty() ? "an op, a result name or 'return'"
                                      : "an op name");
    const Token &opTok = next();
    Loc loc = names.empty() ? opTok.loc : nameLocs[0];
    const OpDef *def = lookupOp(opTok.text);
    if (!def)
      return error(opTok.loc, strCat("unknown op '", opTok.text, "'"));

    std::vector<Value *> operands;
    NYX_RETURN_IF_ERROR(
        expect(TokenKind::LParen,
               strCat("'(' and the operands of '", opTok.text, "'")));
    if (!at(TokenKind::RParen)) {
      do {
        Value *v = nullptr;
        NYX_RETURN_IF_ERROR(parseOperand(v));
        operands.push_back(v);
      } while (consume(TokenKind::Comma));
    }
    NYX_RETURN_IF_ERROR(
        expect(TokenKind::RParen, "',' or ')' after an operand"));

    Attributes attrs;
    std::vector<PendingDense> dense;
    if (at(TokenKind::LBrace))
      NYX_RETURN_IF_ERROR(parseAttrDict(attrs, dense));

    std::vector<TensorType> declared;
    bool hasTypes = consume(TokenKind::Colon);
    if (hasTypes) {
      do {
        TensorType type;
        NYX_RETURN_IF_ERROR(parseType(type));
        declared.push_back(std::move(type));
      } while (consume(TokenKind::Comma));
      if (declared.size() != names.size())
        return error(loc,
                     strCat("'", def->name, "' binds ", names.size(),
                            " result name", names.size() == 1 ? "" : "s",
                            " but declares ", declared.size(), " result type",
                            declared.size() == 1 ? "" : "s",
                            "; expected one type per name"));
    }

    for (PendingDense &p : dense) {
      if (!p.type) {
        if (declared.empty())
          return error(p.loc,
                       strCat("dense literal of attribute '", p.key,
                              "' has no type; declare the op's result type "
                              "or write dense<...> : TYPE"));
        p.type = declared[0];
      }
      NYX_RETURN_IF_ERROR(checkConstant(p));
      auto t = std::make_shared<Tensor>(*p.type);
      int64_t nextIndex = 0;
      NYX_RETURN_IF_ERROR(fillDense(p.literal, *t, 0, nextIndex));
      attrs[p.key] = std::shared_ptr<const Tensor>(std::move(t));
    }

    int n = static_cast<int>(operands.size());
    if (n < def->minOperands || (def->maxOperands >= 0 && n > def->maxOperands))
      return error(opTok.loc, strCat("'", def->name, "' takes ",
                                     operandCountText(*def), "; found ", n));

    std::vector<TensorType> types;
    if (def->inferTypes) {
      Op probe;
      probe.def = def;
      probe.operands = operands;
      probe.attrs = attrs;
      probe.loc = loc;
      auto inferred = def->inferTypes(probe, *module_);
      if (!inferred.ok())
        return error(loc, std::string(inferred.status().message()));
      types = std::move(*inferred);
      // Attributes can make a result larger than any declared type may be.
      for (const TensorType &t : types)
        if (absl::Status s = checkTensorType(t); !s.ok())
          return error(loc, strCat("'", def->name,
                                   "' result: ", std::string(s.message())));
    } else if (hasTypes) {
      types = declared;
    } else {
      return error(loc, strCat("'", def->name,
                               "' has no shape rule; expected its result "
                               "types to be declared"));
    }

    if (hasTypes) {
      if (types.size() != declared.size())
        return error(loc, strCat("'", def->name, "' produces ", types.size(),
                                 " result", types.size() == 1 ? "" : "s",
                                 " but ", declared.size(), " result type",
                                 declared.size() == 1 ? " is" : "s are",
                                 " declared"));
      for (size_t i = 0; i < types.size(); ++i)
        if (!(types[i] == declared[i]))
          return error(loc, strCat("declared result type ", declared[i].str(),
                                   " but '", def->name, "' produces ",
                                   types[i].str(),
                                   types.size() > 1 ? strCat(" for result ", i)
                                                    : std::string()));
    } else if (types.size() != names.size()) {
      return error(loc, strCat("'", def->name, "' produces ", types.size(),
                               " result", types.size() == 1 ? "" : "s", " but ",
                               names.size(), " name",
                               names.size() == 1 ? " is" : "s are", " bound"));
    }

    Op *op = f.appendOp(def, std::move(operands), std::move(attrs),
                        std::move(types), loc, names);
    for (size_t i = 0; i < names.size(); ++i)
      scope_[names[i]] = {op->results[i], nameLocs[i]};
    return absl::OkStatus();
  }

  static std::string operandCountText(const OpDef &def) {
    auto plural = [](int n) {
      return strCat(n, n == 1 ? " operand" : " operands");
    };
    if (def.maxOperands < 0)
      return strCat("at least ", plural(def.minOperands));
    if (def.minOperands == def.maxOperands)
      return plural(def.minOperands);
    return strCat(def.minOperands, " to ", plural(def.maxOperands));
  }

  // ---- attributes ----------------------------------------------------------

  absl::Status parseAttrDict(Attributes &attrs,
                             std::vector<PendingDense> &dense) {
    next(); // '{'
    std::map<std::string, Loc, std::less<>> seen;
    if (!at(TokenKind::RBrace)) {
      do {
        if (!at(TokenKind::Ident) && !at(TokenKind::String))
          return unexpected("an attribute name");
        const Token &key = next();
        if (auto it = seen.find(key.text); it != seen.end())
          return error(key.loc,
                       strCat("duplicate attribute '", key.text,
                              "' (first given at ", it->second.line, ":",
                              it->second.col, "); expected each name once"));
        seen[key.text] = key.loc;
        NYX_RETURN_IF_ERROR(
            expect(TokenKind::Equal,
                   strCat("'=' after attribute name '", key.text, "'")));
        if (atWord("dense")) {
          PendingDense p;
          p.key = key.text;
          NYX_RETURN_IF_ERROR(parseDense(p));
          dense.push_back(std::move(p));
        } else {
          Attribute a;
          NYX_RETURN_IF_ERROR(parseAttrValue(a));
          attrs[key.text] = std::move(a);
        }
      } while (consume(TokenKind::Comma));
    }
    return expect(TokenKind::RBrace, "',' or '}' after an attribute");
  }

  absl::Status parseAttrValue(Attribute &out) {
    const Token &tok = peek();
    switch (tok.kind) {
    case TokenKind::Integer: {
      auto v = parseInt64(tok.text);
      if (!v.ok())
        return error(tok.loc, std::string(v.status().message()));
      out = *v;
      next();
      return absl::OkStatus();
    }
    case TokenKind::Float: {
      auto v = parseDouble(tok.text);
      if (!v.ok())
        return error(tok.loc, std::string(v.status().message()));
      out = *v;
      next();
      return absl::OkStatus();
    }
    case TokenKind::String:
      out = next().text;
      return absl::OkStatus();
    case TokenKind::Symbol:
      out = SymbolRef{next().text};
      return absl::OkStatus();
    case TokenKind::LBracket:
      return parseList(out);
    case TokenKind::Ident: {
      if (tok.text == "true" || tok.text == "false") {
        out = next().text == "true";
        return absl::OkStatus();
      }
      if (std::optional<DType> d = parseDType(tok.text)) {
        next();
        out = *d;
        return absl::OkStatus();
      }
      return error(tok.loc,
                   strCat("unknown dtype '", tok.text, "'; expected one of ",
                          dtypeList(),
                          " or another attribute value (a number, true, "
                          "false, \"string\", [list], @symbol, dense<...>)"));
    }
    default:
      return unexpected("an attribute value (a number, true, false, "
                        "\"string\", [list], dtype, @symbol, dense<...>)");
    }
  }

  absl::Status parseList(Attribute &out) {
    next(); // '['
    std::vector<const Token *> items;
    bool anyFloat = false;
    if (!at(TokenKind::RBracket)) {
      do {
        if (!at(TokenKind::Integer) && !at(TokenKind::Float))
          return unexpected("a number in a list attribute");
        anyFloat |= at(TokenKind::Float);
        items.push_back(&next());
      } while (consume(TokenKind::Comma));
    }
    NYX_RETURN_IF_ERROR(
        expect(TokenKind::RBracket, "',' or ']' after a list element"));
    if (anyFloat) {
      std::vector<double> values;
      for (const Token *t : items) {
        auto v = parseDouble(t->text);
        if (!v.ok())
          return error(t->loc, std::string(v.status().message()));
        values.push_back(*v);
      }
      out = std::move(values);
    } else {
      std::vector<int64_t> values;
      for (const Token *t : items) {
        auto v = parseInt64(t->text);
        if (!v.ok())
          return error(t->loc, std::string(v.status().message()));
        values.push_back(*v);
      }
      out = std::move(values);
    }
    return absl::OkStatus();
  }

  absl::Status checkConstant(const PendingDense &p) const {
    if (absl::Status s = checkConstantType(*p.type); !s.ok())
      return error(p.loc, std::string(s.message()));
    return absl::OkStatus();
  }

  absl::Status parseDense(PendingDense &p) {
    p.loc = next().loc; // 'dense'
    NYX_RETURN_IF_ERROR(expect(TokenKind::Less, "'<' after 'dense'"));
    NYX_RETURN_IF_ERROR(parseDenseLiteral(p.literal));
    NYX_RETURN_IF_ERROR(
        expect(TokenKind::Greater, "'>' to close the dense literal"));
    if (consume(TokenKind::Colon)) {
      TensorType type;
      NYX_RETURN_IF_ERROR(parseType(type));
      p.type = std::move(type);
    }
    return absl::OkStatus();
  }

  // `depth` counts the enclosing '['; a literal never needs more of them
  // than the largest rank, and the limit keeps the recursion shallow.
  absl::Status parseDenseLiteral(DenseLiteral &lit, int64_t depth = 0) {
    lit.loc = peek().loc;
    if (consume(TokenKind::LBracket)) {
      if (depth == kMaxRank)
        return error(lit.loc,
                     strCat("dense literal is nested more than ", kMaxRank,
                            " levels deep; expected at most ", kMaxRank,
                            " (the largest rank)"));
      lit.isList = true;
      if (!at(TokenKind::RBracket)) {
        do {
          lit.items.emplace_back();
          NYX_RETURN_IF_ERROR(parseDenseLiteral(lit.items.back(), depth + 1));
        } while (consume(TokenKind::Comma));
      }
      return expect(TokenKind::RBracket, "',' or ']' in a dense literal");
    }
    const Token &tok = peek();
    bool ok = tok.kind == TokenKind::Integer || tok.kind == TokenKind::Float ||
              tok.kind == TokenKind::HexInt ||
              (tok.kind == TokenKind::Ident &&
               (tok.text == "true" || tok.text == "false"));
    if (!ok)
      return unexpected("a number, true, false or '[' in a dense literal");
    lit.element = next();
    return absl::OkStatus();
  }

  // Checks the nesting of `lit` against the shape of `t` from dimension
  // `dim` on and stores its elements in row-major order.
  absl::Status fillDense(const DenseLiteral &lit, Tensor &t, size_t dim,
                         int64_t &nextIndex) {
    const Shape &shape = t.shape();
    std::string type = t.type().str();
    if (!lit.isList) {
      if (dim == 0) { // a splat: convert once, then copy the bytes
        if (t.numElements() == 0)
          return absl::OkStatus();
        NYX_RETURN_IF_ERROR(setElement(t, 0, lit.element));
        size_t size = dtypeSize(t.dtype());
        for (size_t offset = size; offset < t.byteSize(); offset += size)
          std::memcpy(t.bytes() + offset, t.bytes(), size);
        return absl::OkStatus();
      }
      if (dim < shape.size())
        return error(lit.loc,
                     strCat("dense literal has an element where dimension ",
                            dim, " of ", type, " needs a list; expected '['"));
      return setElement(t, nextIndex++, lit.element);
    }
    if (dim == shape.size())
      return error(lit.loc,
                   strCat("dense literal is nested deeper than the "
                          "rank of ",
                          type, " (", shape.size(), "); expected an element"));
    if (static_cast<int64_t>(lit.items.size()) != shape[dim])
      return error(lit.loc,
                   strCat("dense literal has ", lit.items.size(), " element",
                          lit.items.size() == 1 ? "" : "s", " in dimension ",
                          dim, "; expected ", shape[dim], " for ", type));
    for (const DenseLiteral &item : lit.items)
      NYX_RETURN_IF_ERROR(fillDense(item, t, dim + 1, nextIndex));
    return absl::OkStatus();
  }

  absl::Status setElement(Tensor &t, int64_t i, const Token &tok) {
    absl::Status s = setElementFromText(t, i, tok.text);
    if (!s.ok())
      return error(tok.loc, std::string(s.message()));
    return absl::OkStatus();
  }

  std::vector<Token> toks_;
  size_t pos_ = 0;
  std::string_view filename_;
  std::unique_ptr<Module> module_;
  std::vector<PendingBody> bodies_;
  std::map<std::string, NamedValue, std::less<>> scope_;
};

} // namespace

absl::StatusOr<Attribute> parseAttribute(std::string_view text) {
  auto tokens = tokenize(text, "<attribute>");
  if (!tokens.ok())
    return tokens.status();
  return Parser(std::move(*tokens), "<attribute>").runAttribute();
}

absl::StatusOr<std::unique_ptr<Module>> parseModule(std::string_view text,
                                                    std::string_view filename) {
  auto tokens = tokenize(text, filename);
  if (!tokens.ok())
    return tokens.status();
  return Parser(std::move(*tokens), filename).run();
}

absl::StatusOr<std::string> readSourceFile(std::string_view path) {
  bool isStdin = path == "-";
  std::string p(path);
  std::FILE *file = isStdin ? stdin : std::fopen(p.c_str(), "rb");
  if (!file)
    return absl::NotFoundError(
        strCat("cannot read ", path, ": ", std::strerror(errno)));
  std::string text;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), file)) > 0)
    text.append(buf, n);
  int err = std::ferror(file) ? errno : 0;
  if (!isStdin)
    std::fclose(file);
  if (err)
    return absl::DataLossError(
        strCat("cannot read ", path, ": ", std::strerror(err)));
  return text;
}

absl::StatusOr<std::unique_ptr<Module>> parseModuleFile(std::string_view path) {
  NYX_ASSIGN_OR_RETURN(std::string text, readSourceFile(path));
  return parseModule(text, path == "-" ? "<stdin>" : path);
}

} // namespace nyx::ir

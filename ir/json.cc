#include "ir/json.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "ir/diagnostic.h"
#include "ir/op_registry.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/status_macros.h"
#include "ir/strings.h"
#include "ir/verifier.h"

namespace nyx::ir {

using nlohmann::json;

static constexpr int kVersion = 1;

// ---- Module -> JSON
// ----------------------------------------------------------

static json typeToJson(const TensorType &t) {
  return {{"dtype", dtypeName(t.dtype)}, {"shape", t.shape}};
}

static void putLoc(json &j, std::string_view key, Loc loc) {
  if (loc.known())
    j[std::string(key)] = {loc.line, loc.col};
}

// Finite floats are JSON numbers; inf and NaN, which JSON lacks, are the
// strings the text format uses for them.
static json floatToJson(double v) {
  if (std::isfinite(v))
    return v;
  return formatDouble(v);
}

static json elementToJson(const Tensor &t, int64_t i) {
  DType dt = t.dtype();
  if (dt == DType::Bool)
    return t.getInt(i) != 0;
  if (isInteger(dt))
    return t.getInt(i);
  double v = t.getDouble(i);
  if (std::isfinite(v))
    return v;
  return formatElement(t, i); // inf, nan, or the bits of another NaN
}

static json attrToJson(const Attribute &attr) {
  struct Visitor {
    json operator()(int64_t v) const { return {{"kind", "int"}, {"value", v}}; }
    json operator()(double v) const {
      return {{"kind", "float"}, {"value", floatToJson(v)}};
    }
    json operator()(bool v) const { return {{"kind", "bool"}, {"value", v}}; }
    json operator()(const std::string &v) const {
      return {{"kind", "string"}, {"value", v}};
    }
    json operator()(const std::vector<int64_t> &v) const {
      return {{"kind", "ints"}, {"value", v}};
    }
    json operator()(const std::vector<double> &v) const {
      json items = json::array();
      for (double x : v)
        items.push_back(floatToJson(x));
      return {{"kind", "floats"}, {"value", items}};
    }
    json operator()(DType v) const {
      return {{"kind", "dtype"}, {"value", dtypeName(v)}};
    }
    json operator()(const SymbolRef &v) const {
      return {{"kind", "symbol"}, {"value", v.name}};
    }
    json operator()(const std::shared_ptr<const Tensor> &v) const {
      json j = {{"kind", "tensor"}};
      if (!v)
        return j;
      j["dtype"] = dtypeName(v->dtype());
      j["shape"] = v->shape();
      json data = json::array();
      for (int64_t i = 0; i < v->numElements(); ++i)
        data.push_back(elementToJson(*v, i));
      j["data"] = std::move(data);
      return j;
    }
  };
  return std::visit(Visitor{}, attr);
}

json moduleToJson(const Module &m) {
  json j = {{"format", "nyx-ir"}, {"version", kVersion}, {"name", m.name}};
  json params = json::array();
  for (const Param &p : m.params) {
    json pj = {{"name", p.name}, {"type", typeToJson(p.type)}};
    putLoc(pj, "loc", p.loc);
    params.push_back(std::move(pj));
  }
  j["params"] = std::move(params);
  json functions = json::array();
  for (const auto &f : m.functions) {
    json fj = {{"name", f->name}};
    if (f->isKernel)
      fj["kernel"] = true;
    putLoc(fj, "loc", f->loc);
    json fparams = json::array();
    for (const Value *p : f->params)
      fparams.push_back({{"name", p->name}, {"type", typeToJson(p->type)}});
    fj["params"] = std::move(fparams);
    json results = json::array();
    for (const TensorType &t : f->resultTypes)
      results.push_back(typeToJson(t));
    fj["results"] = std::move(results);
    json ops = json::array();
    for (const auto &op : f->ops) {
      json oj = {{"op", op->name()}};
      json operands = json::array();
      for (const Value *v : op->operands)
        operands.push_back(v->name);
      oj["operands"] = std::move(operands);
      json opResults = json::array();
      for (const Value *v : op->results)
        opResults.push_back({{"name", v->name}, {"type", typeToJson(v->type)}});
      oj["results"] = std::move(opResults);
      json attrs = json::object();
      for (const auto &[key, attr] : op->attrs)
        attrs[key] = attrToJson(attr);
      oj["attrs"] = std::move(attrs);
      putLoc(oj, "loc", op->loc);
      ops.push_back(std::move(oj));
    }
    fj["ops"] = std::move(ops);
    json returns = json::array();
    for (const Value *v : f->returns)
      returns.push_back(v->name);
    fj["return"] = std::move(returns);
    putLoc(fj, "return_loc", f->returnLoc);
    functions.push_back(std::move(fj));
  }
  j["functions"] = std::move(functions);
  return j;
}

// ---- JSON -> Module
// ----------------------------------------------------------

namespace {

std::string kindName(const json &j) {
  if (j.is_null())
    return "null";
  return j.type_name();
}

class Reader {
public:
  explicit Reader(std::string_view filename) : filename_(filename) {}

  absl::StatusOr<std::unique_ptr<Module>> run(const json &j) {
    m_ = std::make_unique<Module>();
    m_->filename = std::string(filename_);
    if (!j.is_object())
      return error({}, "",
                   strCat("expected a JSON object, found ", kindName(j)));
    if (j.contains("format") && j["format"] != "nyx-ir")
      return error({}, "format",
                   strCat("expected \"nyx-ir\", found ", j["format"].dump()));
    if (j.contains("version") && j["version"] != kVersion)
      return error(
          {}, "version",
          strCat("expected ", kVersion, ", found ", j["version"].dump()));
    std::string name;
    NYX_RETURN_IF_ERROR(getString(j, "name", "", {}, name));
    m_->name = name.empty() ? defaultModuleName(filename_) : name;

    const json *params = nullptr;
    NYX_RETURN_IF_ERROR(
        getArray(j, "params", "", {}, params, /*optional=*/true));
    for (size_t i = 0; params && i < params->size(); ++i)
      NYX_RETURN_IF_ERROR(readParam((*params)[i], strCat("params[", i, "]")));

    const json *functions = nullptr;
    NYX_RETURN_IF_ERROR(
        getArray(j, "functions", "", {}, functions, /*optional=*/true));
    // Signatures first, so calls may name functions defined later.
    for (size_t i = 0; functions && i < functions->size(); ++i)
      NYX_RETURN_IF_ERROR(
          readSignature((*functions)[i], strCat("functions[", i, "]")));
    for (size_t i = 0; functions && i < functions->size(); ++i)
      NYX_RETURN_IF_ERROR(readBody((*functions)[i], *m_->functions[i],
                                   strCat("functions[", i, "]")));
    NYX_RETURN_IF_ERROR(verifyModule(*m_));
    return std::move(m_);
  }

private:
  absl::Status error(Loc loc, std::string_view path,
                     std::string_view msg) const {
    return errorAt(filename_, loc,
                   path.empty() ? std::string(msg)
                                : strCat("JSON field ", path, ": ", msg));
  }

  static std::string child(std::string_view path, std::string_view key) {
    return path.empty() ? std::string(key) : strCat(path, ".", key);
  }

  absl::Status getField(const json &j, std::string_view key,
                        std::string_view path, Loc loc, const json *&out,
                        bool optional = false) const {
    if (!j.is_object())
      return error(loc, path,
                   strCat("expected an object, found ", kindName(j)));
    auto it = j.find(std::string(key));
    if (it == j.end()) {
      out = nullptr;
      if (optional)
        return absl::OkStatus();
      return error(loc, path, strCat("missing field \"", key, "\""));
    }
    out = &*it;
    return absl::OkStatus();
  }

  absl::Status getString(const json &j, std::string_view key,
                         std::string_view path, Loc loc, std::string &out,
                         bool optional = false) const {
    const json *f = nullptr;
    NYX_RETURN_IF_ERROR(getField(j, key, path, loc, f, optional));
    if (!f)
      return absl::OkStatus();
    if (!f->is_string())
      return error(loc, child(path, key),
                   strCat("expected a string, found ", kindName(*f)));
    out = f->get<std::string>();
    return absl::OkStatus();
  }

  absl::Status getArray(const json &j, std::string_view key,
                        std::string_view path, Loc loc, const json *&out,
                        bool optional = false) const {
    NYX_RETURN_IF_ERROR(getField(j, key, path, loc, out, optional));
    if (out && !out->is_array())
      return error(loc, child(path, key),
                   strCat("expected an array, found ", kindName(*out)));
    return absl::OkStatus();
  }

  absl::Status readLoc(const json &j, std::string_view key,
                       std::string_view path, Loc &loc) const {
    const json *f = nullptr;
    NYX_RETURN_IF_ERROR(getField(j, key, path, {}, f, /*optional=*/true));
    if (!f)
      return absl::OkStatus();
    if (!f->is_array() || f->size() != 2 || !(*f)[0].is_number_integer() ||
        !(*f)[1].is_number_integer())
      return error({}, child(path, key),
                   strCat("expected [line, col], found ", f->dump()));
    loc = {(*f)[0].get<int>(), (*f)[1].get<int>()};
    return absl::OkStatus();
  }

  absl::Status readInt(const json &j, std::string_view path, Loc loc,
                       int64_t &out) const {
    if (!j.is_number_integer() ||
        (j.is_number_unsigned() && j.get<uint64_t>() > INT64_MAX))
      return error(loc, path,
                   strCat("expected a 64-bit integer, found ", j.dump()));
    out = j.get<int64_t>();
    return absl::OkStatus();
  }

  absl::Status readFloat(const json &j, std::string_view path, Loc loc,
                         double &out) const {
    if (j.is_number()) {
      out = j.get<double>();
      return absl::OkStatus();
    }
    if (j.is_string()) {
      std::string s = j.get<std::string>();
      if (s == "inf" || s == "-inf" || s == "nan" || s == "-nan") {
        Tensor t(TensorType{DType::F64, {}});
        NYX_RETURN_IF_ERROR(setElementFromText(t, 0, s));
        out = t.getDouble(0);
        return absl::OkStatus();
      }
    }
    return error(loc, path,
                 strCat("expected a number, \"inf\", \"-inf\", \"nan\" or "
                        "\"-nan\", found ",
                        j.dump()));
  }

  absl::Status readDType(const json &j, std::string_view path, Loc loc,
                         DType &out) const {
    std::optional<DType> d;
    if (j.is_string())
      d = parseDType(j.get<std::string>());
    if (!d) {
      std::vector<std::string_view> names;
      for (DType t : kAllDTypes)
        names.push_back(dtypeName(t));
      return error(loc, path,
                   strCat("unknown dtype ", j.dump(), "; expected one of ",
                          strJoin(names, ", ")));
    }
    out = *d;
    return absl::OkStatus();
  }

  absl::Status readShape(const json &j, std::string_view path, Loc loc,
                         Shape &out) const {
    if (!j.is_array())
      return error(loc, path,
                   strCat("expected a shape (an array of "
                          "non-negative integers), found ",
                          j.dump()));
    out.clear();
    for (size_t i = 0; i < j.size(); ++i) {
      int64_t d = 0;
      NYX_RETURN_IF_ERROR(readInt(j[i], strCat(path, "[", i, "]"), loc, d));
      if (d < 0)
        return error(loc, strCat(path, "[", i, "]"),
                     strCat("dimension ", d,
                            " is negative; expected a non-negative integer"));
      out.push_back(d);
    }
    return absl::OkStatus();
  }

  absl::Status readType(const json &j, std::string_view path, Loc loc,
                        TensorType &out) const {
    const json *f = nullptr;
    NYX_RETURN_IF_ERROR(getField(j, "dtype", path, loc, f));
    NYX_RETURN_IF_ERROR(readDType(*f, child(path, "dtype"), loc, out.dtype));
    NYX_RETURN_IF_ERROR(getField(j, "shape", path, loc, f));
    NYX_RETURN_IF_ERROR(readShape(*f, child(path, "shape"), loc, out.shape));
    if (absl::Status s = checkTensorType(out); !s.ok())
      return error(loc, path, std::string(s.message()));
    return absl::OkStatus();
  }

  absl::Status readParam(const json &j, std::string_view path) {
    Param p;
    NYX_RETURN_IF_ERROR(readLoc(j, "loc", path, p.loc));
    NYX_RETURN_IF_ERROR(getString(j, "name", path, p.loc, p.name));
    const json *type = nullptr;
    NYX_RETURN_IF_ERROR(getField(j, "type", path, p.loc, type));
    NYX_RETURN_IF_ERROR(readType(*type, child(path, "type"), p.loc, p.type));
    m_->params.push_back(std::move(p));
    return absl::OkStatus();
  }

  absl::Status readSignature(const json &j, std::string_view path) {
    Loc loc;
    NYX_RETURN_IF_ERROR(readLoc(j, "loc", path, loc));
    std::string name;
    NYX_RETURN_IF_ERROR(getString(j, "name", path, loc, name));
    Function *f = m_->addFunction(name);
    f->loc = loc;
    if (j.contains("kernel")) {
      if (!j["kernel"].is_boolean())
        return error(
            loc, child(path, "kernel"),
            strCat("expected true or false, found ", kindName(j["kernel"])));
      f->isKernel = j["kernel"].get<bool>();
    }
    NYX_RETURN_IF_ERROR(readLoc(j, "return_loc", path, f->returnLoc));
    const json *params = nullptr;
    NYX_RETURN_IF_ERROR(getArray(j, "params", path, loc, params));
    std::map<std::string, bool, std::less<>> seen;
    for (size_t i = 0; i < params->size(); ++i) {
      std::string ppath = strCat(path, ".params[", i, "]");
      std::string pname;
      NYX_RETURN_IF_ERROR(getString((*params)[i], "name", ppath, loc, pname));
      if (seen.count(pname))
        return error(loc, child(ppath, "name"),
                     strCat("value %", pname, " is already defined"));
      seen[pname] = true;
      const json *type = nullptr;
      NYX_RETURN_IF_ERROR(getField((*params)[i], "type", ppath, loc, type));
      TensorType t;
      NYX_RETURN_IF_ERROR(readType(*type, child(ppath, "type"), loc, t));
      f->addParam(pname, std::move(t));
    }
    const json *results = nullptr;
    NYX_RETURN_IF_ERROR(getArray(j, "results", path, loc, results));
    for (size_t i = 0; i < results->size(); ++i) {
      TensorType t;
      NYX_RETURN_IF_ERROR(
          readType((*results)[i], strCat(path, ".results[", i, "]"), loc, t));
      f->resultTypes.push_back(std::move(t));
    }
    return absl::OkStatus();
  }

  absl::Status readBody(const json &j, Function &f, std::string_view path) {
    std::map<std::string, Value *, std::less<>> scope;
    for (Value *p : f.params)
      scope[p->name] = p;
    auto lookup = [&](const json &name, std::string_view where, Loc loc,
                      Value *&out) -> absl::Status {
      if (!name.is_string())
        return error(loc, where,
                     strCat("expected a value name, found ", name.dump()));
      auto it = scope.find(name.get<std::string>());
      if (it == scope.end())
        return error(
            loc, where,
            strCat("use of undefined value %", name.get<std::string>()));
      out = it->second;
      return absl::OkStatus();
    };

    const json *ops = nullptr;
    NYX_RETURN_IF_ERROR(getArray(j, "ops", path, f.loc, ops));
    for (size_t i = 0; i < ops->size(); ++i) {
      const json &oj = (*ops)[i];
      std::string opath = strCat(path, ".ops[", i, "]");
      Loc loc;
      NYX_RETURN_IF_ERROR(readLoc(oj, "loc", opath, loc));
      std::string opName;
      NYX_RETURN_IF_ERROR(getString(oj, "op", opath, loc, opName));
      const OpDef *def = lookupOp(opName);
      if (!def)
        return error(loc, child(opath, "op"),
                     strCat("unknown op '", opName, "'"));

      std::vector<Value *> operands;
      const json *operandsJ = nullptr;
      NYX_RETURN_IF_ERROR(getArray(oj, "operands", opath, loc, operandsJ));
      for (size_t k = 0; k < operandsJ->size(); ++k) {
        Value *v = nullptr;
        NYX_RETURN_IF_ERROR(lookup(
            (*operandsJ)[k], strCat(opath, ".operands[", k, "]"), loc, v));
        operands.push_back(v);
      }

      Attributes attrs;
      const json *attrsJ = nullptr;
      NYX_RETURN_IF_ERROR(
          getField(oj, "attrs", opath, loc, attrsJ, /*optional=*/true));
      if (attrsJ) {
        if (!attrsJ->is_object())
          return error(loc, child(opath, "attrs"),
                       strCat("expected an object, found ", kindName(*attrsJ)));
        for (const auto &[key, aj] : attrsJ->items()) {
          Attribute a;
          NYX_RETURN_IF_ERROR(
              readAttr(aj, strCat(opath, ".attrs.", key), loc, a));
          attrs[key] = std::move(a);
        }
      }

      std::vector<TensorType> types;
      std::vector<std::string> names;
      const json *resultsJ = nullptr;
      NYX_RETURN_IF_ERROR(getArray(oj, "results", opath, loc, resultsJ));
      for (size_t k = 0; k < resultsJ->size(); ++k) {
        std::string rpath = strCat(opath, ".results[", k, "]");
        std::string rname;
        NYX_RETURN_IF_ERROR(
            getString((*resultsJ)[k], "name", rpath, loc, rname));
        if (scope.count(rname) ||
            std::find(names.begin(), names.end(), rname) != names.end())
          return error(loc, child(rpath, "name"),
                       strCat("value %", rname, " is already defined"));
        const json *type = nullptr;
        NYX_RETURN_IF_ERROR(getField((*resultsJ)[k], "type", rpath, loc, type));
        TensorType t;
        NYX_RETURN_IF_ERROR(readType(*type, child(rpath, "type"), loc, t));
        names.push_back(rname);
        types.push_back(std::move(t));
      }
      Op *op = f.appendOp(def, std::move(operands), std::move(attrs),
                          std::move(types), loc, names);
      for (Value *r : op->results)
        scope[r->name] = r;
    }

    const json *returns = nullptr;
    NYX_RETURN_IF_ERROR(getArray(j, "return", path, f.loc, returns));
    for (size_t i = 0; i < returns->size(); ++i) {
      Value *v = nullptr;
      NYX_RETURN_IF_ERROR(lookup(
          (*returns)[i], strCat(path, ".return[", i, "]"), f.returnLoc, v));
      f.returns.push_back(v);
    }
    return absl::OkStatus();
  }

  absl::Status readAttr(const json &j, std::string_view path, Loc loc,
                        Attribute &out) const {
    std::string kind;
    NYX_RETURN_IF_ERROR(getString(j, "kind", path, loc, kind));
    if (kind == "tensor")
      return readTensor(j, path, loc, out);
    const json *v = nullptr;
    NYX_RETURN_IF_ERROR(getField(j, "value", path, loc, v));
    std::string vpath = child(path, "value");
    if (kind == "int") {
      int64_t i = 0;
      NYX_RETURN_IF_ERROR(readInt(*v, vpath, loc, i));
      out = i;
    } else if (kind == "float") {
      double d = 0;
      NYX_RETURN_IF_ERROR(readFloat(*v, vpath, loc, d));
      out = d;
    } else if (kind == "bool") {
      if (!v->is_boolean())
        return error(loc, vpath,
                     strCat("expected true or false, found ", v->dump()));
      out = v->get<bool>();
    } else if (kind == "string") {
      if (!v->is_string())
        return error(loc, vpath,
                     strCat("expected a string, found ", v->dump()));
      out = v->get<std::string>();
    } else if (kind == "ints" || kind == "floats") {
      if (!v->is_array())
        return error(loc, vpath,
                     strCat("expected an array, found ", kindName(*v)));
      std::vector<int64_t> ints;
      std::vector<double> floats;
      for (size_t i = 0; i < v->size(); ++i) {
        std::string ipath = strCat(vpath, "[", i, "]");
        if (kind == "ints") {
          int64_t x = 0;
          NYX_RETURN_IF_ERROR(readInt((*v)[i], ipath, loc, x));
          ints.push_back(x);
        } else {
          double x = 0;
          NYX_RETURN_IF_ERROR(readFloat((*v)[i], ipath, loc, x));
          floats.push_back(x);
        }
      }
      if (kind == "ints")
        out = std::move(ints);
      else
        out = std::move(floats);
    } else if (kind == "dtype") {
      DType d;
      NYX_RETURN_IF_ERROR(readDType(*v, vpath, loc, d));
      out = d;
    } else if (kind == "symbol") {
      if (!v->is_string())
        return error(loc, vpath,
                     strCat("expected a symbol name, found ", v->dump()));
      out = SymbolRef{v->get<std::string>()};
    } else {
      return error(loc, child(path, "kind"),
                   strCat("unknown attribute kind \"", kind,
                          "\"; expected one of int, float, bool, string, "
                          "ints, floats, dtype, symbol, tensor"));
    }
    return absl::OkStatus();
  }

  absl::Status readTensor(const json &j, std::string_view path, Loc loc,
                          Attribute &out) const {
    const json *f = nullptr;
    TensorType type;
    NYX_RETURN_IF_ERROR(getField(j, "dtype", path, loc, f));
    NYX_RETURN_IF_ERROR(readDType(*f, child(path, "dtype"), loc, type.dtype));
    NYX_RETURN_IF_ERROR(getField(j, "shape", path, loc, f));
    NYX_RETURN_IF_ERROR(readShape(*f, child(path, "shape"), loc, type.shape));
    if (absl::Status s = checkConstantType(type); !s.ok())
      return error(loc, path, std::string(s.message()));
    const json *data = nullptr;
    NYX_RETURN_IF_ERROR(getArray(j, "data", path, loc, data));
    if (static_cast<int64_t>(data->size()) != type.numElements())
      return error(loc, child(path, "data"),
                   strCat("has ", data->size(), " elements; expected ",
                          type.numElements(), " for ", type.str()));
    auto t = std::make_shared<Tensor>(type);
    for (size_t i = 0; i < data->size(); ++i) {
      const json &e = (*data)[i];
      std::string text;
      if (e.is_boolean())
        text = e.get<bool>() ? "true" : "false";
      else if (e.is_number_unsigned())
        text = strCat(e.get<uint64_t>());
      else if (e.is_number_integer())
        text = strCat(e.get<int64_t>());
      else if (e.is_number_float())
        text = formatDouble(e.get<double>());
      else if (e.is_string())
        text = e.get<std::string>();
      else
        return error(loc, strCat(path, ".data[", i, "]"),
                     strCat("expected a number, true, false or a string, "
                            "found ",
                            e.dump()));
      absl::Status s = setElementFromText(*t, static_cast<int64_t>(i), text);
      if (!s.ok())
        return error(loc, strCat(path, ".data[", i, "]"),
                     std::string(s.message()));
    }
    out = std::shared_ptr<const Tensor>(std::move(t));
    return absl::OkStatus();
  }

  std::string_view filename_;
  std::unique_ptr<Module> m_;
};

} // namespace

absl::StatusOr<std::unique_ptr<Module>>
moduleFromJson(const json &j, std::string_view filename) {
  return Reader(filename).run(j);
}

} // namespace nyx::ir

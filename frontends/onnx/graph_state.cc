#include "frontends/onnx/graph_state.h"

namespace nyx::onnx_import {

const GraphState::Entry *GraphState::find(std::string_view name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : &it->second;
}

void GraphState::defineValue(const std::string &name, ir::Value *value) {
  entries_[name] = Entry{value, nullptr};
}

void GraphState::defineConstant(const std::string &name, ir::Tensor value) {
  entries_[name] =
      Entry{nullptr, std::make_shared<const ir::Tensor>(std::move(value))};
}

ir::Value *GraphState::valueOf(const std::string &name) {
  auto it = entries_.find(name);
  if (it == entries_.end())
    return nullptr;
  Entry &e = it->second;
  if (e.value)
    return e.value;
  const ir::Tensor &t = *e.constant;
  bool inlined = inlineAll_ || t.numElements() <= kMaxInlineConstantElements ||
                 t.isSplat();
  if (inlined) {
    e.value = builder_.constant(t);
  } else {
    e.value = builder_.param(name, t.type());
    weights_.emplace(builder_.scopedName(name), t);
  }
  builder_.rename(e.value, name);
  return e.value;
}

} // namespace nyx::onnx_import

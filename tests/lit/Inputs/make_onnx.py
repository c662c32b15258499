"""Writes small ONNX models for the nyxc lit tests: make_onnx.py CASE OUT."""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper


def model(nodes, inputs, outputs, initializers=(), opset=13):
    graph = helper.make_graph(nodes, "tiny", inputs, outputs, list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def info(name, shape, elem=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, elem, shape)


def mlp():
    # Names as PyTorch's exporter writes them: "input.1", "onnx::Gemm_5",
    # an output named by a number.
    rng = np.random.default_rng(0)
    # The weight is large enough to be a named weight; the bias, at 16
    # elements, becomes a constant.
    w = helper.make_tensor("onnx::Gemm_5", TensorProto.FLOAT, [16, 8],
                           rng.standard_normal(128).astype(np.float32))
    b = helper.make_tensor("fc.bias", TensorProto.FLOAT, [16],
                           rng.standard_normal(16).astype(np.float32))
    nodes = [helper.make_node("Gemm", ["input.1", "onnx::Gemm_5", "fc.bias"],
                              ["7"], transB=1),
             helper.make_node("Relu", ["7"], ["output"])]
    return model(nodes, [info("input.1", ["batch", 8])], [info("output", ["batch", 16])],
                 [w, b])


def relu():
    return model([helper.make_node("Relu", ["x"], ["y"])],
                 [info("x", [2, 3])], [info("y", [2, 3])])


def unsupported():
    return model([helper.make_node("NonZero", ["x"], ["y"], name="nz")],
                 [info("x", [4])], [info("y", [1, 4], TensorProto.INT64)])


def opset18():
    return model([helper.make_node("Relu", ["x"], ["y"])],
                 [info("x", [2])], [info("y", [2])], opset=18)


def external():
    w = helper.make_tensor("w", TensorProto.FLOAT, [64], np.arange(64, dtype=np.float32))
    w.ClearField("float_data")
    w.data_location = TensorProto.EXTERNAL
    entry = w.external_data.add()
    entry.key, entry.value = "location", "weights.bin"
    return model([helper.make_node("Add", ["x", "w"], ["y"])],
                 [info("x", [64])], [info("y", [64])], [w])


def uint8():
    return model([helper.make_node("Relu", ["x"], ["y"])],
                 [info("x", [2], TensorProto.UINT8)], [info("y", [2], TensorProto.UINT8)])


CASES = {f.__name__: f for f in [mlp, relu, unsupported, opset18, external, uint8]}

if __name__ == "__main__":
    m = CASES[sys.argv[1]]()
    with open(sys.argv[2], "wb") as f:
        f.write(m.SerializeToString())

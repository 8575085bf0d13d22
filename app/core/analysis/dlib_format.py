"""Reads a network that dlib serialized (a `.dat` written by `dlib::serialize(net)`), without dlib.

dlib writes a network outside-in: the loss layer, then one version number per wrapping layer down
to the input (2 for a layer with parameters, 1 for a tag or skip layer, which store nothing else),
then the input layer, then every layer's details inside-out, each followed by training state that
is skipped here. `read_network` returns that inside-out list; tags and skips come back as
`Layer("tag_or_skip")`, since the file does not say which (the network's template does).

The primitives follow dlib/serialize.h: an integer is a byte holding its length (0x80 when
negative) then that many little-endian bytes; a float is an integer mantissa and exponent; a bool
is the character '0' or '1'; a string is its length then its bytes; a tensor is version 2, four
dimensions, then little-endian float32s (dlib/cuda/tensor.h).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np


class DlibFormatError(ValueError):
    """The file is not a dlib network of the kind expected here."""


@dataclass
class Layer:
    kind: str  # the layer's type as dlib names it in the file, without its version ("con", "affine", ...)
    params: dict[str, Any] = field(default_factory=dict)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = memoryview(data)
        self.pos = 0

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise DlibFormatError("dlib model file ends early")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def int(self) -> int:
        control = self.byte()
        size = control & 0x0F
        if control & 0x70 or size > 8:
            raise DlibFormatError(f"bad integer control byte {control:#x} at {self.pos - 1}")
        value = int.from_bytes(self.data[self.pos : self.pos + size], "little")
        self.pos += size
        return -value if control & 0x80 else value

    def float(self) -> float:
        mantissa = self.int()
        exponent = self.int()
        return math.ldexp(mantissa, exponent)

    def bool(self) -> bool:
        ch = self.byte()
        if ch not in (0x30, 0x31):
            raise DlibFormatError(f"bad bool byte {ch:#x} at {self.pos - 1}")
        return ch == 0x31

    def string(self) -> str:
        size = self.int()
        try:
            text = bytes(self.data[self.pos : self.pos + size]).decode("ascii")
        except UnicodeDecodeError:
            raise DlibFormatError(f"not a name at {self.pos}: the file is damaged") from None
        self.pos += size
        return text

    def peek_string(self) -> str | None:
        """The string at the current position if one is there (the position does not move)."""
        start = self.pos
        try:
            text = self.string()
        except DlibFormatError:
            text = None
        self.pos = start
        return text

    def tensor(self) -> np.ndarray:
        if self.int() != 2:
            raise DlibFormatError(f"unknown tensor version at {self.pos}")
        shape = tuple(self.int() for _ in range(4))
        count = math.prod(shape)
        end = self.pos + 4 * count
        if end > len(self.data):
            raise DlibFormatError("dlib model file ends inside a tensor")
        array = np.frombuffer(self.data[self.pos : end], dtype="<f4").reshape(shape).astype(np.float32)
        self.pos = end
        return array

    def alias(self) -> tuple[int, int, int, int]:
        if self.int() != 1:
            raise DlibFormatError(f"unknown alias_tensor version at {self.pos}")
        n, k, nr, nc = (self.int() for _ in range(4))
        return n, k, nr, nc


def _split(params: np.ndarray, *shapes: tuple[int, int, int, int]) -> list[np.ndarray]:
    """dlib keeps a layer's tensors as consecutive slices of one flat parameter tensor."""
    flat, out, start = params.reshape(-1), [], 0
    for shape in shapes:
        size = math.prod(shape)
        out.append(flat[start : start + size].reshape(shape))
        start += size
    return out


def _details(r: _Reader) -> Layer:
    """One layer's own parameters (dlib/dnn/layers.h, the versions this reader knows)."""
    version = r.string()
    kind = version.rstrip("0123456789").rstrip("_")
    if version in ("con_4", "con_5", "con_6"):
        params = r.tensor()
        filters, nr, nc, stride_y, stride_x, pad_y, pad_x = (r.int() for _ in range(7))
        weights_shape, bias_shape = r.alias(), r.alias()
        for _ in range(4):  # learning-rate and weight-decay multipliers
            r.float()
        use_bias = r.bool() if version in ("con_5", "con_6") else True
        if version == "con_6" and r.bool():
            raise DlibFormatError("convolutions with a fused relu are not supported")
        shapes = (weights_shape, bias_shape) if use_bias else (weights_shape,)
        weights, *bias = _split(params, *shapes)
        return Layer("con", {"weights": weights, "bias": bias[0].reshape(-1) if bias else None,
                             "filters": filters, "kernel": (nr, nc), "stride": (stride_y, stride_x),
                             "pad": (pad_y, pad_x)})  # fmt: skip
    if version in ("affine_", "affine_2"):
        params = r.tensor()
        gamma_shape, beta_shape = r.alias(), r.alias()
        mode = r.int()
        disabled = r.bool() if version == "affine_2" else False
        gamma, beta = _split(params, gamma_shape, beta_shape)
        return Layer("affine", {"gamma": gamma.reshape(-1), "beta": beta.reshape(-1), "mode": mode,
                                "disabled": disabled})  # fmt: skip
    if version in ("relu_", "relu_2"):
        return Layer("relu", {"disabled": r.bool() if version == "relu_2" else False})
    if version in ("max_pool_2", "avg_pool_2"):
        nr, nc, stride_y, stride_x, pad_y, pad_x = (r.int() for _ in range(6))
        return Layer(kind, {"kernel": (nr, nc), "stride": (stride_y, stride_x), "pad": (pad_y, pad_x)})
    if version == "add_prev_":
        return Layer("add_prev")
    if version in ("fc_2", "fc_3"):
        outputs, inputs = r.int(), r.int()
        params = r.tensor()
        weights_shape, bias_shape = r.alias(), r.alias()
        bias_mode = r.int()
        for _ in range(4):
            r.float()
        use_bias = r.bool() if version == "fc_3" else True
        with_bias = bias_mode == 0 and use_bias  # dlib's FC_HAS_BIAS is 0, FC_NO_BIAS 1
        weights, *bias = _split(params, *((weights_shape, bias_shape) if with_bias else (weights_shape,)))
        return Layer("fc", {"weights": weights.reshape(inputs, outputs), "bias": bias[0].reshape(-1) if bias else None})
    raise DlibFormatError(f"dlib layer {version!r} is not supported by this reader")


def _skip_training_state(r: _Reader, version: int, innermost: bool) -> None:
    """What add_layer writes after a layer's details: setup flags and gradient buffers (dlib/dnn/core.h)."""
    for _ in range(3):
        r.bool()
    for _ in range(3):  # x_grad, cached_output, then params_grad (grad_final for the innermost layer)
        r.tensor()
    if innermost and version >= 3:
        r.int()  # _sample_expansion_factor


def read_network(data: bytes) -> tuple[Layer, Layer, list[Layer]]:
    """(loss layer, input layer, layers from the input outwards) of a serialized dlib network."""
    r = _Reader(data)
    if r.int() != 1:
        raise DlibFormatError("not a dlib network (loss layer version)")
    loss_version = r.string()
    if loss_version != "loss_metric_2":
        raise DlibFormatError(f"loss {loss_version!r} is not supported by this reader")
    loss = Layer("loss_metric", {"margin": r.float(), "distance_threshold": r.float()})
    wrappers: list[int] = []
    while True:
        wrappers.append(r.int())
        text = r.peek_string()
        if text is not None and text.startswith("input_"):
            break
    if r.string() != "input_rgb_image_sized":
        raise DlibFormatError("only networks on input_rgb_image_sized are supported")
    mean = (r.float(), r.float(), r.float())
    size = (r.int(), r.int())
    input_layer = Layer("input_rgb_image_sized", {"mean_rgb": mean, "size": size})
    layers: list[Layer] = []
    for depth, version in enumerate(reversed(wrappers)):
        innermost = depth == 0
        if version == 1 and not innermost:
            layers.append(Layer("tag_or_skip"))
            continue
        layers.append(_details(r))
        _skip_training_state(r, version, innermost)
    if r.pos != len(r.data):
        raise DlibFormatError(f"{len(r.data) - r.pos} bytes left after the network")
    return loss, input_layer, layers

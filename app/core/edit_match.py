"""Is photo B an edited copy of photo A? Keypoints matched, one similarity transform fitted with
RANSAC, then the aligned overlap compared cell by cell. Pure: OpenCV and numpy on two images, no
catalog, no Qt; runs in worker processes (see app/core/edited_tier.py).

Steps, each a reason to say no:
1. ORB keypoints on the gray picture at WORK_SIZE px (from the cached 1024 px thumbnail), matched
   with Lowe's ratio test, one match per keypoint of B.
2. RANSAC for one similarity transform (rotation, uniform scale, shift; OpenCV's
   estimateAffinePartial2D): at least MIN_INLIERS inliers, a sane scale, an overlap of MIN_OVERLAP,
   inliers not all in one spot.
3. The overlap, aligned, at GRID px in CELL px cells: most textured cells must correlate (zero-mean
   NCC, blind to brightness, contrast and gray conversion), and the mean gray may not jump by more
   than the similar tier's lightness gap (dark and light versions of one design are different
   pictures).
What differs is named: *crop* (one frame shows less), *watermark* (a compact patch of cells that no
longer match), *colour* (Lab statistics of the overlap moved).

Figures that chose the thresholds, on ../shared/corpus/dupes' thumbnails (all 10,878 pairs: 0 false
matches; every crop, crop16x9 and watermark copy matched to its original): true copies have >= 15
inliers and 72-100 % agreeing cells (the low end: 180-degree turns, resampled); a mirrored copy
(no similarity transform maps it; the similar tier finds those) fits a wrong transform that at best
reaches 52 %. Dark/light twins line up perfectly (75-100 % agree) but their mean gray differs by 67
and 88 levels, brightness edits by <= 23. The inliers of true copies cover >= 3.3 % of the overlap
(a smooth illustration with keypoints only on its flower).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from app.core.dupes import MAX_LIGHTNESS_GAP
from app.core.edited_links import CROP_COVER

VERSION = 1  # bump when a change here could change a decision: cached decisions are then redone

WORK_SIZE = 512  # long side keypoints are found at (the 1024 px thumbnail decoded at half size)
MIN_SIZE = 256  # smaller pictures are enlarged to this first: ORB needs 31 px patches
N_FEATURES = 1000
RATIO = 0.8  # Lowe's ratio for binary descriptors
RANSAC_PX = 4.0  # reprojection error at WORK_SIZE
MIN_INLIERS = 15  # below this RANSAC finds chance agreements among ~1000 matches
MAX_SCALE = 8.0  # work-image scale between the two; beyond it one is a thumbnail-sized detail
MIN_SPREAD = 0.02  # inliers' convex hull / overlap area: not all in one spot
MIN_OVERLAP = 0.25  # overlap / the smaller picture's area: two crops of one original that share this
GRID = 128  # the photometric checks run at this long side
CELL = 8  # px: a 16 x 12 grid on a 4:3 photo
MIN_CELL_STD = 4.0  # gray levels: below it a cell is flat and says nothing
MIN_NCC = 0.5  # a cell agrees at this correlation
MIN_AGREEING = 0.7  # share of textured overlap cells that correlate
MIN_TEXTURED_CELLS = 12
# naming (CROP_COVER: a frame showing less of the other's is a crop)
WATERMARK_DIFF, WATERMARK_PEAK = 1.0, 1.2  # z-scored mean absolute difference of cells an overlay changed
MAX_WATERMARK_SHARE = 0.25  # of the overlap's cells; more is not a watermark
# Colour: the overlap's Lab statistics, watermark cells left out. On the corpus' thumbnails,
# re-encodes, resizes and rotations move mean L, a or b by <= 2.4 (L 0-100), L's standard deviation
# by <= 11 % and mean chroma by <= 13 %; its +20 % brightness / +10 % contrast edits move the mean
# by >= 4.7 and the deviation by >= 17 %, gray copies take chroma to 0 (a 100 % change).
COLOUR_SHIFT = 3.0
COLOUR_CONTRAST = 0.14  # relative change of L's standard deviation
COLOUR_CHROMA = 0.3  # relative change of mean chroma
COLOUR_FLOOR = 3.0  # a chroma or deviation below this is noise (a gray picture)


@dataclass
class Picture:
    """What the check needs of one photo, computed once per photo and reused for all its pairs."""

    points: np.ndarray  # (n, 2) float32 keypoint positions in work pixels
    descriptors: np.ndarray | None
    work_size: tuple[int, int]  # (w, h) of the work image the points are in
    small: np.ndarray  # BGR, GRID px long side: the photometric checks
    scale: float  # photo pixels per work pixel


def picture(bgr: np.ndarray, photo_size: tuple[int, int]) -> Picture:
    """From a decoded BGR thumbnail of a photo whose oriented size is `photo_size` (w, h)."""
    h, w = bgr.shape[:2]
    s = WORK_SIZE / max(h, w) if max(h, w) > WORK_SIZE else max(1.0, MIN_SIZE / max(h, w))
    work = cv2.resize(bgr, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    keypoints, descriptors = cv2.ORB_create(nfeatures=N_FEATURES).detectAndCompute(
        cv2.cvtColor(work, cv2.COLOR_BGR2GRAY), None
    )
    points = np.array([k.pt for k in keypoints], dtype=np.float32).reshape(-1, 2)
    f = GRID / max(work.shape[:2])
    small = cv2.resize(work, (max(CELL, round(work.shape[1] * f)), max(CELL, round(work.shape[0] * f))),
                       interpolation=cv2.INTER_AREA)  # fmt: skip
    return Picture(points, descriptors, (work.shape[1], work.shape[0]), small, photo_size[0] / work.shape[1])


PairKey = tuple[str, str]  # a pair of photos by content: (sha256 a, sha256 b), a < b


@dataclass(frozen=True)
class PairResult:
    """A decision. `matrix` maps A's photo pixels to B's (2x3, row-major), None when no match."""

    matched: bool
    inliers: int
    matrix: tuple[float, ...] | None = None
    edits: tuple[str, ...] = ()
    reason: str = ""


def compare(a: Picture, b: Picture) -> PairResult:
    src, dst = _matches(a, b)
    if len(src) < MIN_INLIERS:
        return PairResult(False, 0, reason=f"{len(src)} keypoint matches")
    m, mask = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=RANSAC_PX,
                                          maxIters=2000, confidence=0.995)  # fmt: skip
    inliers = int(mask.sum()) if mask is not None else 0
    if m is None or inliers < MIN_INLIERS:
        return PairResult(False, inliers, reason=f"{inliers} inliers")
    scale = math.hypot(m[0, 0], m[1, 0])
    if not 1 / MAX_SCALE <= scale <= MAX_SCALE:
        return PairResult(False, inliers, reason=f"scale {scale:.3f}")
    view = _Aligned(a, b, m)
    area_a, area_b = a.work_size[0] * a.work_size[1], b.work_size[0] * b.work_size[1] / scale**2
    if view.overlap_area < MIN_OVERLAP * min(area_a, area_b):
        return PairResult(False, inliers, reason=f"overlap {view.overlap_area / min(area_a, area_b):.0%}")
    spread = _hull_area(src[mask.ravel().astype(bool)]) / view.overlap_area
    if spread < MIN_SPREAD:
        return PairResult(False, inliers, reason=f"inliers cover {spread:.0%} of the overlap")
    verdict = view.differs()
    if verdict:
        return PairResult(False, inliers, reason=verdict)
    edits = []
    if min(view.overlap_area / area_a, view.overlap_area / area_b) < CROP_COVER:
        edits.append("crop")
    overlay = view.overlay()
    if overlay.any():
        edits.append("watermark")
    if view.colour_changed(overlay):
        edits.append("colour")
    return PairResult(True, inliers, _photo_matrix(a, b, m), tuple(edits))


def _matches(a: Picture, b: Picture) -> tuple[np.ndarray, np.ndarray]:
    """Keypoint positions (in A, in B) of the matches that pass the ratio test, one per B keypoint."""
    if a.descriptors is None or b.descriptors is None or len(a.descriptors) < 2 or len(b.descriptors) < 2:
        return np.empty((0, 2), np.float32), np.empty((0, 2), np.float32)
    best: dict[int, tuple[float, int]] = {}  # train index -> (distance, query index)
    for pair in cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(a.descriptors, b.descriptors, k=2):
        if len(pair) == 2 and pair[0].distance < RATIO * pair[1].distance:
            m = pair[0]
            if m.trainIdx not in best or m.distance < best[m.trainIdx][0]:
                best[m.trainIdx] = (m.distance, m.queryIdx)
    q = np.array([qi for _, qi in best.values()], dtype=np.int64)
    t = np.array(list(best), dtype=np.int64)
    return a.points[q].reshape(-1, 2), b.points[t].reshape(-1, 2)


def _hull_area(points: np.ndarray) -> float:
    return float(cv2.contourArea(cv2.convexHull(points.astype(np.float32)))) if len(points) >= 3 else 0.0


class _Aligned:
    """B resampled into A's frame at GRID px: both in gray and in Lab, the overlap, and its cells."""

    def __init__(self, a: Picture, b: Picture, m: np.ndarray) -> None:
        h, w = a.small.shape[:2]
        fa, fb = w / a.work_size[0], b.small.shape[1] / b.work_size[0]
        grid = m.astype(np.float64).copy()  # the work-pixel transform between the small images
        grid[:, :2] *= fb / fa
        grid[:, 2] *= fb
        b_in_a = cv2.warpAffine(b.small, grid, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
        ones = np.full(b.small.shape[:2], 255, np.uint8)
        inside = cv2.warpAffine(ones, grid, (w, h), flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP) > 0
        self.overlap_area = float(inside.sum()) / fa**2  # in A's work pixels
        # off the seams, where the resampling mixes in the border
        self.inside = cv2.erode(inside.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        self.gray_a = cv2.cvtColor(a.small, cv2.COLOR_BGR2GRAY).astype(np.float32)
        self.gray_b = cv2.cvtColor(b_in_a, cv2.COLOR_BGR2GRAY).astype(np.float32)
        self.lab_a, self.lab_b = _lab(a.small), _lab(b_in_a)
        self.rows, self.cols = h // CELL, w // CELL
        self.valid = self._blocks(self.inside.astype(np.float32)).min(axis=2) > 0  # cells wholly inside

    def _blocks(self, x: np.ndarray) -> np.ndarray:
        """(rows, cols, CELL * CELL): the picture cut in CELL x CELL blocks."""
        r, c = self.rows, self.cols
        x = x[: r * CELL, : c * CELL]
        return x.reshape(r, CELL, c, CELL).transpose(0, 2, 1, 3).reshape(r, c, CELL * CELL)

    def differs(self) -> str:
        """Why the aligned pictures are not one photo, or "" when they are."""
        if self.valid.sum() < MIN_TEXTURED_CELLS:
            return "overlap too small to compare"
        ca, cb = self._blocks(self.gray_a), self._blocks(self.gray_b)
        gap = abs(float(ca[self.valid].mean() - cb[self.valid].mean()))
        if gap > MAX_LIGHTNESS_GAP:
            return f"mean gray differs by {gap:.0f}"
        za, zb = ca - ca.mean(axis=2, keepdims=True), cb - cb.mean(axis=2, keepdims=True)
        sa, sb = za.std(axis=2), zb.std(axis=2)
        textured = self.valid & (sa >= MIN_CELL_STD) & (sb >= MIN_CELL_STD)
        if textured.sum() < MIN_TEXTURED_CELLS:
            return f"{int(textured.sum())} textured cells"
        ncc = (za * zb).mean(axis=2) / np.maximum(sa * sb, 1e-6)
        agreeing = float((ncc[textured] >= MIN_NCC).mean())
        return f"{agreeing:.0%} of the cells agree" if agreeing < MIN_AGREEING else ""

    def overlay(self) -> np.ndarray:
        """Cells of a watermark: a compact patch (8-connected, at least two cells, one far off) that
        differs once both pictures have zero mean and unit variance. Resampling noise along edges
        makes single cells."""
        ca, cb, valid = self._blocks(self.gray_a), self._blocks(self.gray_b), self.valid
        za = (ca - ca[valid].mean()) / max(float(ca[valid].std()), 1e-6)
        zb = (cb - cb[valid].mean()) / max(float(cb[valid].std()), 1e-6)
        diff = np.where(valid, np.abs(za - zb).mean(axis=2), 0.0)
        n, labels, stats, _ = cv2.connectedComponentsWithStats((diff > WATERMARK_DIFF).astype(np.uint8), connectivity=8)
        patch = np.zeros_like(valid)
        for label in range(1, n):
            area = stats[label, cv2.CC_STAT_AREA]
            if 2 <= area <= MAX_WATERMARK_SHARE * valid.sum() and diff[labels == label].max() > WATERMARK_PEAK:
                patch |= labels == label
        return patch

    def colour_changed(self, overlay: np.ndarray) -> bool:
        """Lab statistics of the overlap with the watermark cells left out: mean L, a, b, L's
        standard deviation (contrast) and mean chroma."""
        keep = self.inside.copy()
        keep[: self.rows * CELL, : self.cols * CELL] &= ~np.kron(overlay, np.ones((CELL, CELL), bool))
        la, lb = self.lab_a[keep], self.lab_b[keep]
        if len(la) < CELL * CELL:
            return False
        shift = float(np.abs(la.mean(axis=0) - lb.mean(axis=0)).max())

        def changed(x: float, y: float, limit: float) -> bool:
            return max(x, y) > COLOUR_FLOOR and abs(x - y) / max(x, y) > limit

        chroma_a, chroma_b = (float(np.hypot(x[:, 1], x[:, 2]).mean()) for x in (la, lb))
        return (
            shift > COLOUR_SHIFT
            or changed(float(la[:, 0].std()), float(lb[:, 0].std()), COLOUR_CONTRAST)
            or changed(chroma_a, chroma_b, COLOUR_CHROMA)
        )


def _lab(bgr: np.ndarray) -> np.ndarray:
    """L in 0-100, a and b around 0 (OpenCV's 8-bit Lab is scaled to 0-255 and offset by 128)."""
    lab = cv2.cvtColor(bgr, cv2.COLOR_BGR2LAB).astype(np.float32)
    lab[..., 0] *= 100 / 255
    lab[..., 1:] -= 128
    return lab


def _photo_matrix(a: Picture, b: Picture, m: np.ndarray) -> tuple[float, ...]:
    """The work-pixel transform in photo pixels: x_b = M x_a with both in their photo's pixels."""
    photo = m.astype(np.float64).copy()
    photo[:, :2] *= b.scale / a.scale
    photo[:, 2] *= b.scale
    return tuple(round(float(v), 6) for v in photo.ravel())

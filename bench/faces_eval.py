"""Face detection against corpus/faces ground truth: recall, false positives, ms per photo.

A detection is a hit at IoU >= 0.4 with a `face` box (greedy one-to-one); one on an `ignore` box
is neither hit nor false positive. Prints a single whole-image pass at 0.5 (the MANIFEST baseline),
the wide and square passes alone, and with the zoom passes (the detector) over a threshold sweep.
With --pipeline the detector gets what the analysis pipeline gives it (a view of the reduced decode
at the faces stage's size, and the detail image decoded when a zoom pass asks for it; its time is
then counted in) instead of a 2048 px Lanczos thumbnail.
Usage: .venv/bin/python bench/faces_eval.py [-v] [--pipeline]
"""

from __future__ import annotations

import csv
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2
from PIL import Image, ImageOps

from app.core.analysis import faces as faces_mod
from app.core.analysis.faces import Detail, FaceDetector
from bench._common import CORPUS

FACES = CORPUS / "faces"


def iou(a: list[float], b: list[float]) -> float:
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / (a[2] * a[3] + b[2] * b[3] - inter) if inter else 0.0


def truth() -> tuple[list[str], dict[str, list[tuple[list[float], str]]]]:
    with open(FACES / "faces.csv", newline="") as fh:
        files = [r["file"] for r in csv.DictReader(fh)]
    boxes: dict[str, list[tuple[list[float], str]]] = defaultdict(list)
    with open(FACES / "faces_boxes.csv", newline="") as fh:
        for r in csv.DictReader(fh):
            boxes[r["file"]].append(([float(r[k]) for k in "xywh"], r["kind"]))
    return files, boxes


def score(detections: list[list[float]], gt: list[tuple[list[float], str]]) -> tuple[int, int, int]:
    """(hits, faces, false positives)"""
    faces = [b for b, k in gt if k == "face"]
    ignores = [b for b, k in gt if k == "ignore"]
    used: set[int] = set()
    hits = fps = 0
    for d in detections:
        best, best_iou = None, 0.4
        for i, f in enumerate(faces):
            v = iou(d, f)
            if i not in used and v >= best_iou:
                best, best_iou = i, v
        if best is not None:
            used.add(best)
            hits += 1
        elif not any(iou(d, g) >= 0.4 for g in ignores):
            fps += 1
    return hits, len(faces), fps


def load(name: str) -> tuple[Image.Image, tuple[int, int]]:
    image = ImageOps.exif_transpose(Image.open(FACES / name)).convert("RGB")
    full = image.size
    image.thumbnail((2048, 2048), Image.Resampling.LANCZOS)
    return image, full


def load_as_pipeline(name: str) -> tuple[Image.Image, tuple[int, int], Detail]:
    """What the faces stage gets in an import (see stages.REGISTRY and work.Pixels)."""
    from functools import partial

    from app.core.analysis.decode import decode_reduced
    from app.core.analysis.stages import BY_NAME
    from app.core.analysis.work import Pixels
    from app.core.ingest.filetypes import SNIFF_BYTES, sniff_format

    data = (FACES / name).read_bytes()
    stage = BY_NAME["faces"]
    pixels = Pixels(decode_reduced(data, sniff_format(data[:SNIFF_BYTES]), stage.size, stage.detail), data)
    image, _ = pixels.view(stage.size)
    return image, (pixels.decoded.width, pixels.decoded.height), partial(pixels.larger, stage.detail)


def evaluate(detector: FaceDetector, images: dict, boxes: dict, verbose: bool = False) -> tuple[int, int, int, float]:
    hits = total = fps = 0
    elapsed = 0.0
    for name, (image, full, *detail) in images.items():
        t0 = time.perf_counter()
        found = detector.detect(image, full, *detail)
        elapsed += time.perf_counter() - t0
        h, n, f = score([x.as_list() for x in found], boxes.get(name, []))
        hits, total, fps = hits + h, total + n, fps + f
        if verbose and (h < n or f):
            print(f"    {name}: {h}/{n} found, {f} false")
    return hits, total, fps, 1000 * elapsed / len(images)


def main() -> None:
    verbose = "-v" in sys.argv
    cv2.setNumThreads(1)
    files, boxes = truth()
    images = {name: (load_as_pipeline if "--pipeline" in sys.argv else load)(name) for name in files}
    print(f"{len(images)} images, {sum(k == 'face' for b in boxes.values() for _, k in b)} faces")
    single = FaceDetector(0.5)
    wide = faces_mod.WIDE_PASS_SIDE
    faces_mod.WIDE_PASS_SIDE = 10**9  # only the MANIFEST's single 300x300 pass
    h, n, f, ms = evaluate(single, images, boxes, verbose)
    print(f"single pass @0.50:   recall {h}/{n} = {h / n:.2f}, FP {f} ({f / len(images):.2f}/image), {ms:.0f} ms/photo")
    faces_mod.WIDE_PASS_SIDE = wide
    zooms = faces_mod.MAX_ZOOMS
    faces_mod.MAX_ZOOMS = 0  # the wide and square passes alone
    h, n, f, ms = evaluate(FaceDetector(), images, boxes, verbose)
    print(f"two passes @0.80:    recall {h}/{n} = {h / n:.2f}, FP {f} ({f / len(images):.2f}/image), {ms:.0f} ms/photo")
    faces_mod.MAX_ZOOMS = zooms
    for threshold in (0.7, 0.8, 0.9):
        h, n, f, ms = evaluate(FaceDetector(threshold), images, boxes, verbose and threshold == 0.8)
        mark = "  <- default" if threshold == faces_mod.DEFAULT_THRESHOLD else ""
        print(
            f"+ zoom passes @{threshold:.2f}: recall {h}/{n} = {h / n:.2f}, FP {f} ({f / len(images):.2f}/image), "
            f"{ms:.0f} ms/photo{mark}"
        )
    big = Image.open(CORPUS / "exif" / "phone_xiaomi_mia3_gps_sw.jpg").convert("RGB")
    full = big.size
    big.thumbnail((2048, 2048))
    det = FaceDetector()
    det.detect(big, full)
    t0 = time.perf_counter()
    for _ in range(5):
        det.detect(big, full)
    print(f"12 MP photo (2048 px working image), one core: {(time.perf_counter() - t0) / 5 * 1000:.0f} ms")


if __name__ == "__main__":
    main()

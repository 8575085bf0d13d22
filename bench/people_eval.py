"""Who is who on ../shared/corpus/people through the real pipeline: decode, detect (faces.py),
describe (face_descriptor.py), group (people/grouping.py).

Detections are matched to the listed faces of identities.csv (IoU >= 0.4 once our box is framed as
dlib frames a face, one to one); every detection is grouped, listed or not, as in a library. Then
pairwise same-person precision / recall over the listed faces that were found: a pair is predicted
"same" when both faces share a group. Printed per threshold for average linkage (ours, on squared
distances, and the plain one computed from the full distance matrix for comparison) and for
connected components; then the same on the listed boxes themselves, as the MANIFEST measured dlib.
Usage: .venv/bin/python bench/people_eval.py
"""

from __future__ import annotations

import csv
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from app.core.analysis.decode import decode_image
from app.core.analysis.face_descriptor import DLIB_FRAME_SCALE, DLIB_FRAME_SHIFT_Y, describe_faces, dlib_frame
from app.core.analysis.faces import FaceDetector
from app.core.people.grouping import DEFAULT_THRESHOLD, connected_components, group_faces
from bench._common import CORPUS, corpus_images
from bench.faces_eval import iou

PEOPLE = CORPUS / "people"
THRESHOLDS = (0.45, 0.50, 0.55, 0.575, 0.60, 0.625, 0.65)
MATCH_IOU = 0.4


@dataclass
class Described:
    """Every face of the set: its descriptor, and the listed person it was matched to (or None)."""

    vectors: np.ndarray
    persons: list[str | None]
    listed: int  # faces in identities.csv
    seconds_detect: float = 0.0
    seconds_describe: float = 0.0


def identities() -> dict[str, list[tuple[list[float], str]]]:
    out: dict[str, list[tuple[list[float], str]]] = defaultdict(list)
    with open(PEOPLE / "identities.csv", newline="") as fh:
        for r in csv.DictReader(fh):
            out[r["file"]].append(([float(r[k]) for k in "xywh"], r["person"]))
    return out


def _match(found: list[list[float]], listed: list[tuple[list[float], str]]) -> list[str | None]:
    """The listed person of each found box (dlib-framed, full-size pixels), greedy by IoU."""
    pairs = sorted(
        ((iou(f, b), fi, li) for fi, f in enumerate(found) for li, (b, _) in enumerate(listed)), reverse=True
    )
    person: list[str | None] = [None] * len(found)
    used: set[int] = set()
    for value, fi, li in pairs:
        if value >= MATCH_IOU and person[fi] is None and li not in used:
            person[fi] = listed[li][1]
            used.add(li)
    return person


def describe_pipeline(detector: FaceDetector) -> Described:
    truth = identities()
    vectors, persons = [], []
    seconds_detect = seconds_describe = 0.0
    for path in corpus_images(PEOPLE):
        decoded = decode_image(path.read_bytes())
        full = (decoded.width, decoded.height)
        scale = decoded.image.width / decoded.width
        t0 = time.process_time()
        faces = detector.detect(decoded.image, full)
        t1 = time.process_time()
        boxes = [[v * scale for v in f.as_list()] for f in faces]
        described = describe_faces(decoded.image, boxes)
        seconds_detect, seconds_describe = seconds_detect + t1 - t0, seconds_describe + time.process_time() - t1
        framed = [[v / scale for v in _ltwh(dlib_frame(b))] for b in boxes]
        persons += _match(framed, truth.get(str(path.relative_to(PEOPLE)), []))
        vectors += [d.vector for d in described]
    listed = sum(len(v) for v in truth.values())
    return Described(np.array(vectors, np.float32).reshape(-1, 128), persons, listed, seconds_detect, seconds_describe)


def describe_listed_boxes() -> Described:
    """Descriptors on the listed boxes themselves (dlib-framed in the file: turned into our framing)."""
    vectors, persons = [], []
    for name, listed in identities().items():
        decoded = decode_image((PEOPLE / name).read_bytes())
        scale = decoded.image.width / decoded.width
        boxes = [_our_frame([v * scale for v in box]) for box, _ in listed]
        vectors += [d.vector for d in describe_faces(decoded.image, boxes)]
        persons += [p for _, p in listed]
    return Described(np.array(vectors, np.float32), persons, len(persons))


def _ltwh(ltrb: tuple[int, int, int, int]) -> list[float]:
    return [ltrb[0], ltrb[1], ltrb[2] - ltrb[0], ltrb[3] - ltrb[1]]


def _our_frame(box: list[float]) -> list[float]:
    """The inverse of dlib_frame: a dlib-framed box as our detector frames the face."""
    x, y, w, h = box
    ow, oh = w / DLIB_FRAME_SCALE[0], h / DLIB_FRAME_SCALE[1]
    cx, cy = x + w / 2, y + h / 2 - DLIB_FRAME_SHIFT_Y * oh
    return [cx - ow / 2, cy - oh / 2, ow, oh]


def pairwise(labels: np.ndarray, persons: list[str | None]) -> tuple[float, float, int, int]:
    """(precision, recall, same-person pairs, predicted pairs) over the faces with a listed person."""
    idx = [i for i, p in enumerate(persons) if p is not None]
    tp = fp = fn = 0
    for a in range(len(idx)):
        for b in range(a + 1, len(idx)):
            same = persons[idx[a]] == persons[idx[b]]
            together = labels[idx[a]] == labels[idx[b]]
            tp, fp, fn = tp + (same and together), fp + (together and not same), fn + (same and not together)
    precision = tp / (tp + fp) if tp + fp else 1.0
    return precision, tp / (tp + fn) if tp + fn else 1.0, tp + fn, tp + fp


def plain_average_linkage(vectors: np.ndarray, threshold: float) -> np.ndarray:
    """Textbook average linkage (mean of plain distances) on the full matrix: O(n^3), a reference."""
    d = np.linalg.norm(vectors[:, None, :] - vectors[None, :, :], axis=2).astype(np.float64)
    members = {i: [i] for i in range(len(vectors))}
    while len(members) > 1:
        keys = list(members)
        best, pair = threshold, None
        for x in range(len(keys)):
            for y in range(x + 1, len(keys)):
                value = d[np.ix_(members[keys[x]], members[keys[y]])].mean()
                if value < best:
                    best, pair = value, (keys[x], keys[y])
        if pair is None:
            break
        members[pair[0]] += members.pop(pair[1])
    labels = np.empty(len(vectors), dtype=np.int64)
    for label, faces in enumerate(members.values()):
        labels[faces] = label
    return labels


def report(title: str, data: Described) -> None:
    found = sum(p is not None for p in data.persons)
    print(f"{title}: {len(data.persons)} faces described, {found} of the {data.listed} listed faces among them")
    methods = {"average linkage (RMS, ours)": group_faces, "average linkage (plain)": plain_average_linkage,
               "connected components": connected_components}  # fmt: skip
    for name, method in methods.items():
        for t in THRESHOLDS:
            labels = method(data.vectors, t)
            p, r, same, predicted = pairwise(labels, data.persons)
            mark = "  <- default" if name.endswith("(RMS, ours)") and abs(t - DEFAULT_THRESHOLD) < 1e-9 else ""
            print(f"  {name:28s} @{t:.3f}: precision {p:.2f}  recall {r:.2f}  ({same} same-person pairs, "
                  f"{predicted} predicted, {labels.max() + 1} groups){mark}")  # fmt: skip


def main() -> None:
    detector = FaceDetector()
    data = describe_pipeline(detector)
    report("real pipeline (our detector + descriptor)", data)
    n_faces = len(data.persons)
    images = len(corpus_images(PEOPLE))
    print(f"  CPU time (one core, shared machine): detection {1000 * data.seconds_detect / images:.0f} ms/photo, "
          f"landmarks + chip + descriptor {1000 * data.seconds_describe / max(n_faces, 1):.1f} ms/face")  # fmt: skip
    report("listed boxes (as the MANIFEST measured dlib)", describe_listed_boxes())


if __name__ == "__main__":
    main()

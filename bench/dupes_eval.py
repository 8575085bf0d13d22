"""Precision and recall of the duplicate finder on ../shared/corpus/dupes, pairwise, per variant kind,
ours (8 orientations + guards) beside plain pHash; used to choose dupes.DEFAULT_THRESHOLD.

    .venv/bin/python bench/dupes_eval.py
"""

from __future__ import annotations

import csv
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core import dupes
from app.core.analysis.decode import decode_image
from app.core.analysis.hashing import compute_hashes
from app.core.ingest.filetypes import sniff_format
from bench._common import CORPUS

# transforms a perceptual hash of the whole frame cannot survive: another aspect ratio, and gray +
# quarter size + heavy JPEG at once. Reported, not claimed.
HARD = {"crop16x9", "heavy"}


def load_set(folder: Path) -> tuple[list[dict[str, str]], dupes.HashSet]:
    rows = list(csv.DictReader((folder / "groundtruth.csv").read_text().splitlines()))
    orient, detail, light = [], [], []
    for row in rows:
        data = (folder / row["file"]).read_bytes()
        h = compute_hashes(decode_image(data, sniff_format(data[:64])).image)
        orient.append(h.orientation_phashes)
        detail.append(h.detail)
        light.append(h.lightness)
    return rows, dupes.HashSet(
        ids=np.arange(len(rows), dtype=np.int64),
        orient=np.array(orient, dtype=np.uint64),
        detail=np.array(detail),
        lightness=np.array(light),
    )


def score(rows: list[dict[str, str]], pairs: np.ndarray, exclude: set[str]) -> dict[str, float]:
    """Pairwise precision/recall; pairs involving an excluded transform count neither way."""

    def counted(i: int) -> bool:
        return rows[i]["transform"] not in exclude

    truth = {
        (i, j)
        for i in range(len(rows))
        for j in range(i + 1, len(rows))
        if rows[i]["group"] == rows[j]["group"] and counted(i) and counted(j)
    }
    found = {(int(a), int(b)) for a, b in pairs.tolist() if counted(int(a)) and counted(int(b))}
    hits = len(found & truth)
    return {
        "precision": hits / len(found) if found else 1.0,
        "recall": hits / len(truth) if truth else 1.0,
        "false_pairs": len(found - truth),
    }


def per_transform_recall(rows: list[dict[str, str]], pairs: np.ndarray) -> dict[str, float]:
    found = {(int(a), int(b)) for a, b in pairs.tolist()}
    hit, total = defaultdict(int), defaultdict(int)
    originals = {r["group"]: i for i, r in enumerate(rows) if r["transform"] == "original"}
    for i, r in enumerate(rows):
        if r["transform"] in ("original",) or r["group"] not in originals:
            continue
        o = originals[r["group"]]
        total[r["transform"]] += 1
        hit[r["transform"]] += (min(i, o), max(i, o)) in found
    return {t: hit[t] / total[t] for t in sorted(total)}


def main() -> None:
    rows, hashes = load_set(CORPUS / "dupes")
    plain = dupes.HashSet(hashes.ids, hashes.orient)
    print(f"{'threshold':>9}  {'plain pHash':>24}  {'8 orientations':>24}  {'ours (8 orient. + guards)':>26}")
    for t in range(4, 17, 2):
        cells = []
        for hs, rot in ((plain, False), (plain, True), (hashes, True)):
            s = score(rows, dupes.similar_pairs(hs, t, rot)[0], HARD)
            cells.append(f"P {s['precision']:.2f} R {s['recall']:.2f} FP {s['false_pairs']:>2}")
        print(f"{t:>9}  {cells[0]:>24}  {cells[1]:>24}  {cells[2]:>26}")
    t = dupes.DEFAULT_THRESHOLD
    ours = per_transform_recall(rows, dupes.similar_pairs(hashes, t, True)[0])
    base = per_transform_recall(rows, dupes.similar_pairs(plain, 10, False)[0])
    print(f"\nrecall per variant kind (copy vs its original): ours@{t} vs plain pHash@10")
    for kind in ours:
        print(f"  {kind:12} {ours[kind]:.2f}   {base[kind]:.2f}{'   (not claimed)' if kind in HARD else ''}")


if __name__ == "__main__":
    main()

"""Precision and recall of the duplicate finder on ../shared/corpus/dupes, pairwise, thresholds 4-14:
plain pHash, 8 orientations, each with and without the guards, and the clusters a user would see
with the defaults; then recall per variant kind. Used to choose dupes.DEFAULT_THRESHOLD.

    .venv/bin/python bench/dupes_eval.py
"""

from __future__ import annotations

import csv
import itertools
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
    """Every file decoded once (format by content, EXIF-oriented), hashed, and its guard signature."""
    rows = list(csv.DictReader((folder / "groundtruth.csv").read_text().splitlines()))
    orient, signatures = [], []
    for row in rows:
        data = (folder / row["file"]).read_bytes()
        image = decode_image(data, sniff_format(data[:64])).image
        orient.append(compute_hashes(image).orientation_phashes)
        signatures.append(dupes.dupe_signature(image))
    return rows, dupes.HashSet.from_signatures(range(len(rows)), np.array(orient, dtype=np.uint64), signatures)


def cluster_pairs(rows: list[dict[str, str]], hashes: dupes.HashSet, threshold: int) -> np.ndarray:
    """Pairs (i < j) that land in one cluster, as a user sees them (chaining guard, keepers)."""
    facts = {i: dupes.PhotoFacts(i, r["file"]) for i, r in enumerate(rows)}
    pairs = [
        (a, b)
        for c in dupes.find_clusters(hashes, facts, {}, threshold=threshold)
        for a, b in itertools.combinations(sorted(m.id for m in c.members), 2)
    ]
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


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
    variants = (("plain pHash", False, False), ("8 orientations", True, False),
                ("plain + guards", False, True), ("8 orient. + guards", True, True))  # fmt: skip
    print(
        f"pairwise on {len(rows)} files, {', '.join(sorted(HARD))} not claimed; P precision, R recall, FP false pairs"
    )
    print(f"{'threshold':>9}" + "".join(f"  {name:>24}" for name, _, _ in variants) + f"  {'clusters (default)':>24}")
    for t in range(4, 15):
        cells = []
        for _, rot, guards in variants:
            cells.append(score(rows, dupes.similar_pairs(plain if not guards else hashes, t, rot, guards)[0], HARD))
        cells.append(score(rows, cluster_pairs(rows, hashes, t), HARD))
        line = "".join(
            f"  P {s['precision']:.2f} R {s['recall']:.2f} FP {s['false_pairs']:>2}".rjust(26) for s in cells
        )
        print(f"{t:>9}{line}")
    t = dupes.DEFAULT_THRESHOLD
    ours = per_transform_recall(rows, dupes.similar_pairs(hashes, t, True)[0])
    base = per_transform_recall(rows, dupes.similar_pairs(plain, t, False, False)[0])
    print(f"\nrecall per variant kind (copy vs its original) at {t}: 8 orientations + guards vs plain pHash")
    for kind in ours:
        print(f"  {kind:12} {ours[kind]:.2f}   {base[kind]:.2f}{'   (not claimed)' if kind in HARD else ''}")


if __name__ == "__main__":
    main()

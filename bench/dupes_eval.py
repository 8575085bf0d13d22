"""Precision and recall of the duplicate finder on ../shared/corpus/dupes, pairwise, every variant kind
included, through the real pipeline: the folder imported into a temporary library (thumbnails,
hashes, colours, features), then find_duplicates. Prints
1. the similar tier's threshold sweep (plain pHash, 8 orientations, each with and without the guards,
   and the clusters a user would see), on the kinds it claims: how dupes.DEFAULT_THRESHOLD was chosen;
2. each tier alone and the three together (the default), on every pair;
3. per variant kind: recall of its copy/original pairs and precision of the pairs found with it.

    .venv/bin/python bench/dupes_eval.py
"""

from __future__ import annotations

import csv
import itertools
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core import dupes, find_duplicates
from app.core.catalog import duplicates
from app.core.catalog.models import Photo
from app.core.library import Library
from bench._common import CORPUS

# transforms a perceptual hash of the whole frame cannot survive: another aspect ratio, and gray +
# quarter size + heavy JPEG at once. The similar tier does not claim them; the edited tier does.
HARD = {"crop16x9", "heavy"}
TIER_SETS = (("exact", ("exact",)), ("similar", ("similar",)), ("edited", ("edited",)),
             ("all (default)", find_duplicates.DEFAULT_TIERS))  # fmt: skip
Pairs = set[tuple[str, str]]


def truth_of(rows: list[dict[str, str]], files: list[str]) -> Pairs:
    group = {r["file"]: r["group"] for r in rows}
    return {(a, b) for a, b in itertools.combinations(sorted(files), 2) if group[a] == group[b]}


def score(found: Pairs, truth: Pairs) -> str:
    hits = len(found & truth)
    precision = hits / len(found) if found else 1.0
    return f"P {precision:.2f} R {hits / len(truth):.2f} FP {len(found - truth):>2}"


def cluster_pairs(clusters: list[dupes.Cluster], name: dict[int, str]) -> Pairs:
    return {pair for c in clusters for pair in itertools.combinations(sorted(name[m.id] for m in c.members), 2)}


def similar_sweep(rows: list[dict[str, str]], name: dict[int, str]) -> None:
    hashes, facts, sha = duplicates.load()
    plain = dupes.HashSet(hashes.ids, hashes.orient)
    claimed = [r["file"] for r in rows if r["transform"] not in HARD]
    truth = truth_of(rows, claimed)

    def named(pairs: np.ndarray) -> Pairs:
        found = {tuple(sorted((name[int(hashes.ids[a])], name[int(hashes.ids[b])]))) for a, b in pairs.tolist()}
        return {p for p in found if p[0] in claimed and p[1] in claimed}

    variants = (("plain pHash", False, False), ("8 orientations", True, False),
                ("plain + guards", False, True), ("8 orient. + guards", True, True))  # fmt: skip
    print(f"1. similar tier, pairwise on the {len(claimed)} files it claims ({', '.join(sorted(HARD))} left out)")
    print(f"{'threshold':>9}" + "".join(f"  {n:>24}" for n, _, _ in variants) + f"  {'clusters (default)':>24}")
    for t in range(4, 15):
        cells = [
            score(named(dupes.similar_pairs(hashes if g else plain, t, rot, g)[0]), truth) for _, rot, g in variants
        ]
        clusters = dupes.find_clusters(hashes, facts, sha, tiers="similar", threshold=t)
        found = {p for p in cluster_pairs(clusters, name) if p[0] in claimed and p[1] in claimed}
        cells.append(score(found, truth))
        print(f"{t:>9}" + "".join(f"  {c:>24}" for c in cells))


def main() -> None:
    rows = list(csv.DictReader((CORPUS / "dupes" / "groundtruth.csv").read_text().splitlines()))
    kind = {r["file"]: r["transform"] for r in rows}
    group = {r["file"]: r["group"] for r in rows}
    with tempfile.TemporaryDirectory() as tmp, Library.open(Path(tmp) / "lib") as lib:
        start = time.perf_counter()
        lib.import_folders([CORPUS / "dupes"], analyze=False)
        lib.analyze(stages=["thumbnails", "hashes", "colors", "tags"])
        lib.writer.flush()
        print(f"{len(rows)} files imported and analyzed in {time.perf_counter() - start:.0f} s\n")
        name = {p.id: Path(p.path).name for p in Photo.select(Photo.id, Photo.path)}
        similar_sweep(rows, name)
        truth = truth_of(rows, list(kind))
        print(
            f"\n2. each tier and all three, pairwise on all {len(rows)} files ({len(truth)} true pairs); the first run"
        )
        print("   of the edited tier does its geometric checks, the next ones read them from the catalog")
        found: dict[str, Pairs] = {}
        for label, tiers in TIER_SETS:
            start = time.perf_counter()
            found[label] = cluster_pairs(find_duplicates.library_clusters(lib, tiers=tiers), name)
            seconds = time.perf_counter() - start
            print(f"  {label:14} {score(found[label], truth)}   ({seconds:.1f} s)")
        print("\n3. per variant kind: recall of copy/original pairs, precision of the pairs found with such a file")
        print(f"  {'kind':12}" + "".join(f"  {label:>18}" for label, _ in TIER_SETS))
        originals = {r["group"]: r["file"] for r in rows if r["transform"] == "original"}
        for k in sorted({v for v in kind.values() if v != "original"}):
            cells = []
            for label, _ in TIER_SETS:
                mine = {f for f in kind if kind[f] == k and group[f] in originals}
                recall = np.mean([tuple(sorted((f, originals[group[f]]))) in found[label] for f in mine]) if mine else 1
                with_kind = {p for p in found[label] if kind[p[0]] == k or kind[p[1]] == k}
                precision = len(with_kind & truth) / len(with_kind) if with_kind else 1.0
                cells.append(f"R {recall:.2f} P {precision:.2f}")
            print(f"  {k:12}" + "".join(f"  {c:>18}" for c in cells) + ("   (hard)" if k in HARD else ""))
        hard_negatives(found, truth)


def hard_negatives(found: dict[str, Pairs], truth: Pairs) -> None:
    """What each tier wrongly joined with a dark/light twin or a flat picture."""
    joined = {
        label: sum(1 for a, b in pairs - truth if a.startswith(("n0", "f0")) or b.startswith(("n0", "f0")))
        for label, pairs in found.items()
    }
    print(
        "\nhard negatives (dark/light twins, flat pictures) joined: " + ", ".join(f"{k} {n}" for k, n in joined.items())
    )


if __name__ == "__main__":
    main()

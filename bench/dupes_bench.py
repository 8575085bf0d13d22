"""Duplicate search at scale: synthetic 64-bit hashes with planted near-duplicates, clustered at
thresholds 6 and 10 for 100k and 1M photos; beside it, imagehash's pairwise `-` in a Python loop on a
5k subset, extrapolated to the same n (n^2/2 comparisons). Prints seconds, speed-up and peak RSS.

    .venv/bin/python bench/dupes_bench.py [--sizes 100000,1000000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import imagehash
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core import dupes
from bench._common import peak_rss_mb

PLANTED_SHARE = 0.1  # one photo in ten has a copy a few bits away


def synthetic(n: int, max_flips: int, rng: np.random.Generator) -> np.ndarray:
    copies = int(n * PLANTED_SHARE)
    originals = n - copies
    base = rng.integers(0, np.iinfo(np.int64).max, size=originals, dtype=np.int64).astype(np.uint64)
    base ^= rng.integers(0, 2, size=originals, dtype=np.int64).astype(np.uint64) << np.uint64(63)
    src = rng.choice(originals, size=copies, replace=False)
    near = base[src].copy()
    flips = rng.integers(1, max_flips + 1, size=copies)
    for k in range(max_flips):
        bits = rng.integers(0, 64, size=copies).astype(np.uint64)
        near ^= np.where(flips > k, np.uint64(1) << bits, np.uint64(0))
    return np.concatenate([base, near])


def cluster(hashes: np.ndarray, threshold: int, rotations: bool = False) -> tuple[float, int, int]:
    """Seconds for candidate search, verification, guards and connected components."""
    n = len(hashes)
    orient = np.repeat(hashes[:, None], 8, axis=1)
    if rotations:  # stand-ins for the other 7 orientation hashes: independent random values
        orient[:, 1:] = np.random.default_rng(n).integers(0, 2**63, size=(n, 7), dtype=np.int64).astype(np.uint64)
    hs = dupes.HashSet(np.arange(n, dtype=np.int64), orient)
    start = time.perf_counter()
    pairs, _ = dupes.similar_pairs(hs, threshold, rotations=rotations)
    labels = dupes.components(n, pairs)
    clusters = len(np.unique(labels[np.unique(pairs)]))
    return time.perf_counter() - start, len(pairs), clusters


def imagehash_loop_seconds(hashes: np.ndarray, threshold: int) -> float:
    objs = [imagehash.hex_to_hash(f"{int(h):016x}") for h in hashes]
    start = time.perf_counter()
    hits = 0
    for i in range(len(objs)):
        a = objs[i]
        for j in range(i + 1, len(objs)):
            hits += (a - objs[j]) <= threshold
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--baseline", type=int, default=5000, help="subset size for the imagehash loop")
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    sizes = [int(s) for s in args.sizes.split(",")]
    subset = synthetic(args.baseline, 6, rng)
    base_s = imagehash_loop_seconds(subset, 10)
    per_pair = base_s / (args.baseline * (args.baseline - 1) / 2)
    print(f"imagehash pairwise loop: {args.baseline:,} hashes in {base_s:.1f} s ({per_pair * 1e9:.0f} ns per pair)")
    for n in sizes:
        hashes = synthetic(n, 10, rng)
        for t in (6, 10):
            seconds, pairs, clusters = cluster(hashes, t)
            loop = per_pair * n * (n - 1) / 2
            target = 1.0 if n <= 100_000 else 30.0
            blocks = " ".join(f"{w}b/r{r}" for _, w, r in dupes.block_layout(n, t))
            print(
                f"n={n:>9,}  threshold {t:>2} [{blocks}]: {seconds:7.2f} s  ({pairs:,} pairs, {clusters:,} clusters)  "
                f"imagehash loop ~{loop:,.0f} s -> {loop / seconds:,.0f}x faster  [target <= {target:.0f} s]"
            )
    n = min(sizes)
    seconds, pairs, _ = cluster(synthetic(n, 10, rng), 10, rotations=True)
    print(f"n={n:>9,}  threshold 10 with 8 orientations: {seconds:7.2f} s  ({pairs:,} pairs)")
    own, _ = peak_rss_mb()
    print(f"peak RSS: {own:.0f} MB  [target <= 1024 MB at 1M]")


if __name__ == "__main__":
    main()

"""Duplicate search at scale: synthetic 64-bit hashes with planted near-duplicates, clustered at
thresholds 6 and 10 for 100k and 1M photos; beside it, imagehash's pairwise `-` in a Python loop on a
5k subset, extrapolated to the same n (n^2/2 comparisons). Then the edited tier: its candidate search
on synthetic classifier features (100k and 200k photos, 1M extrapolated), the cached decisions read
back from a catalog, and the rate of the geometric checks on real thumbnails in 2 processes.
Prints seconds, speed-up, recall of the planted copies and peak RSS.

    .venv/bin/python bench/dupes_bench.py [--sizes 100000,1000000] [--edited-sizes 100000,200000]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

import imagehash
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core import dupes, edited_tier
from app.core.analysis.thumbnails import LARGE, thumb_path
from app.core.catalog import duplicates
from app.core.catalog.edit_checks import cached_decisions
from app.core.catalog.models import EditCheck, Photo
from app.core.edit_match import VERSION
from app.core.edited_candidates import neighbour_pairs_cached
from app.core.feature_neighbours import neighbour_pairs
from app.core.library import Library
from app.core.similar import SimilarityIndex
from bench._common import CORPUS, peak_rss_mb

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


def synthetic_features(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Unit float16 vectors shaped like the classifier's on the corpus (a common mean that makes any
    two photos ~0.2 alike; principal spectrum 0.068 k^-0.9); the last PLANTED_SHARE are noisy copies
    of others (cosine 0.6-0.99). Made in chunks: 200k photos are 512 MB as float16."""
    d = 1280
    spread = np.sqrt(0.068 * np.arange(1, d + 1) ** -0.9).astype(np.float32)
    vectors = np.empty((n, d), np.float16)
    copies = int(n * PLANTED_SHARE)
    originals = n - copies
    src = rng.choice(originals, size=copies, replace=False)

    def fill(lo: int, hi: int, rows: np.ndarray) -> None:
        vectors[lo:hi] = rows / np.linalg.norm(rows, axis=1, keepdims=True)

    for lo in range(0, originals, 8192):
        hi = min(originals, lo + 8192)
        x = rng.standard_normal((hi - lo, d), dtype=np.float32) * spread
        x[:, 0] += 0.47
        fill(lo, hi, x)
    for lo in range(0, copies, 8192):  # the original plus noise of its shape, 10-70 % as strong
        hi = min(copies, lo + 8192)
        noise = rng.standard_normal((hi - lo, d), dtype=np.float32) * spread * rng.uniform(0.1, 0.7, (hi - lo, 1))
        fill(originals + lo, originals + hi, vectors[src[lo:hi]].astype(np.float32) + noise)
    return vectors, np.stack((src, originals + np.arange(copies)), axis=1)


def edited_search(sizes: list[int], rng: np.random.Generator) -> np.ndarray:
    """Candidate search of the edited tier at each size; returns the pairs of the smallest."""
    timings: dict[int, float] = {}
    kept = np.empty((0, 2), np.int64)
    for n in sizes:
        vectors, planted = synthetic_features(n, rng)
        start = time.perf_counter()
        pairs, _ = neighbour_pairs(vectors, top=edited_tier.TOP, floor=edited_tier.FLOOR)
        timings[n] = time.perf_counter() - start
        cosine = np.concatenate([
            np.einsum("ij,ij->i", vectors[chunk[:, 0]].astype(np.float32), vectors[chunk[:, 1]].astype(np.float32))
            for chunk in np.array_split(planted, max(1, len(planted) // 8192))
        ])  # fmt: skip
        found = {tuple(p) for p in pairs.tolist()}
        hit = np.array([tuple(sorted(p)) in found for p in planted.tolist()])
        buckets = "  ".join(
            f"cos {lo:.2f}-{hi:.2f}: {hit[(cosine >= lo) & (cosine < hi)].mean():.3f}"
            for lo, hi in ((0.7, 0.8), (0.8, 0.9), (0.9, 1.01))
        )
        print(
            f"edited tier n={n:>9,}: candidate search {timings[n]:6.1f} s  [target <= 60 s at 100k], "
            f"{len(pairs):,} candidate pairs ({len(pairs) / n:.2f} a photo); planted copies found: {buckets}"
        )
        if not len(kept):
            kept = pairs
            search_reuse(vectors)
        del vectors
    if len(timings) >= 2:
        (n1, t1), (n2, t2) = sorted(timings.items())[:2]
        slope = math.log(t2 / t1) / math.log(n2 / n1)
        big = max(timings)
        print(
            f"edited tier n=1,000,000 extrapolated from {big:,}: {timings[big] * (1e6 / big) ** slope:.0f} s "
            f"with the measured growth n^{slope:.2f} ({timings[big] * (1e6 / big) ** 1.5:.0f} s with n^1.5)"
        )
    return kept


def search_reuse(vectors: np.ndarray) -> None:
    """The next run's candidate search, from the cache the last one left (edited_candidates.py):
    nothing changed, then 1 % of the photos new."""
    ids = np.arange(len(vectors), dtype=np.int64)
    kept = ids[: len(ids) * 99 // 100]
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "candidates.npz"
        neighbour_pairs_cached(cache, kept, vectors[kept], top=edited_tier.TOP, floor=edited_tier.FLOOR)
        timings = []
        for rows in (kept, ids):
            start, cpu = time.perf_counter(), time.process_time()
            neighbour_pairs_cached(cache, rows, vectors[rows], top=edited_tier.TOP, floor=edited_tier.FLOOR)
            timings.append(f"{time.perf_counter() - start:.2f} s ({time.process_time() - cpu:.2f} s CPU)")
    print(f"edited tier n={len(ids):,}, next run from the cache: {timings[0]} unchanged, "
          f"{timings[1]} with {len(ids) - len(kept):,} new photos")  # fmt: skip


def cached_rerun(pairs: np.ndarray) -> None:
    """A second run reads every decision back from the catalog instead of checking again."""
    with tempfile.TemporaryDirectory() as tmp, Library.open(Path(tmp) / "lib") as lib:
        rows = [
            {"sha_a": f"{a:064x}", "sha_b": f"{b:064x}", "version": VERSION, "matched": False, "inliers": 0,
             "edits": "", "checked_at": "2026-01-01T00:00:00"}
            for a, b in pairs.tolist()
        ]  # fmt: skip
        for lo in range(0, len(rows), 2000):
            lib.writer.call(lambda chunk=rows[lo : lo + 2000]: EditCheck.insert_many(chunk).execute())
        start = time.perf_counter()
        decided = cached_decisions()
        hits = sum((f"{a:064x}", f"{b:064x}") in decided for a, b in pairs.tolist())
        print(f"edited tier, second run: {hits:,} cached decisions read back and looked up in "
              f"{time.perf_counter() - start:.2f} s")  # fmt: skip


def check_rate() -> None:
    """The edited tier's candidates on ../shared/corpus/dupes (imported, thumbnails and features
    computed), checked on their real thumbnails in 1 and in 2 processes."""
    with tempfile.TemporaryDirectory() as tmp, Library.open(Path(tmp) / "lib") as lib:
        lib.import_folders([CORPUS / "dupes"], analyze=False)
        lib.analyze(stages=["thumbnails", "hashes", "tags"])
        lib.writer.flush()
        _, facts, sha = duplicates.load()
        index = SimilarityIndex.load()
        pairs = edited_tier.candidates(index.ids, index.vectors, facts)
        thumbs = {p.id: str(thumb_path(lib.thumbs_dir, p.thumb_key, LARGE)) for p in Photo.select()}
        jobs = [tuple(edited_tier.PhotoRef(sha[i], thumbs[i], facts[i].size_px) for i in pair) for pair in pairs]
        for processes in (1, edited_tier.PROCESSES):
            start = time.perf_counter()
            stamps = [(time.perf_counter(), r.matched) for _, r in edited_tier.check(jobs, processes=processes)]
            seconds = stamps[-1][0] - start
            # from the first decision on: the workers' start-up (~1 s each, imports) is paid once a run
            steady = (len(stamps) - edited_tier.CHUNK) / max(stamps[-1][0] - stamps[edited_tier.CHUNK - 1][0], 1e-6)
            print(f"geometric checks, {processes} process(es): the {len(jobs)} candidate pairs of {len(facts)} corpus "
                  f"photos in {seconds:.1f} s, {steady:.0f} pairs/s once started "
                  f"({sum(m for _, m in stamps)} matched)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,1000000", help="hash tiers: photos (empty: skip)")
    parser.add_argument("--edited-sizes", default="100000,200000", help="edited tier: photos (empty: skip)")
    parser.add_argument("--baseline", type=int, default=5000, help="subset size for the imagehash loop")
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    edited_sizes = [int(s) for s in args.edited_sizes.split(",") if s]
    if sizes:
        hash_tiers(sizes, args.baseline, rng)
    if edited_sizes:
        cached_rerun(edited_search(edited_sizes, rng))
        check_rate()
    own, _ = peak_rss_mb()  # not the workers': a spawned child counts its parent's pages before exec
    print(f"peak RSS: {own:.0f} MB  [target <= 1024 MB at 1M for the hash tiers]")


def hash_tiers(sizes: list[int], baseline: int, rng: np.random.Generator) -> None:
    subset = synthetic(baseline, 6, rng)
    base_s = imagehash_loop_seconds(subset, 10)
    per_pair = base_s / (baseline * (baseline - 1) / 2)
    print(f"imagehash pairwise loop: {baseline:,} hashes in {base_s:.1f} s ({per_pair * 1e9:.0f} ns per pair)")
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


if __name__ == "__main__":
    main()

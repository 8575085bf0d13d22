"""Duplicate clusters in Hamming space, without O(n^2) loops.

Tiers: *exact* (same SHA-256) and *similar* (pHash distance <= threshold; with rotations on, the
minimum over the 8 orientation hashes of one photo against the upright hash of the other).

Candidate pairs come from multi-index hashing: the 64-bit hash is cut into four 16-bit blocks; two
hashes within distance t agree within floor(t/4) bits on at least one block (pigeonhole), so for
each block we look up every hash's block value, and its neighbours within that radius, in a
counting table of the 65536 possible values and check the real distance of those candidates only.
Everything is vectorized numpy over arrays of hashes.

Clusters are connected components of the accepted pairs with a chaining guard: every member must be
within the threshold of the cluster's keeper, otherwise the far members are split off and
re-clustered on their own.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

# Chosen on ../shared/corpus/dupes (bench/dupes_eval.py; pairwise over 150 files, 8 orientations and
# the guards below, the "hard" crop16x9/heavy variants excluded):
#   threshold  6: precision 0.99, recall 0.78      threshold 10: precision 0.99, recall 0.91
#   threshold 12: precision 0.99, recall 0.95      threshold 16: precision 0.88, recall 0.97
# Plain pHash at 10 on the same pairs: precision 0.86, recall 0.59 (no rotations, 16 false pairs).
# 10 rather than 12: burst shots of one scene often sit at 11-14 bits and photographers keep them.
DEFAULT_THRESHOLD = 10
MAX_THRESHOLD = 16
# Guards measured on the same set: flat pictures (sky, walls, solid wallpapers) have a 32x32 gray
# std-dev under ~6 and a pHash that is mostly noise; dark and light versions of one design differ
# by more than 40 levels of mean gray while a brightness edit of the same photo moves it < 30.
MIN_DETAIL = 6.0
MAX_LIGHTNESS_GAP = 40.0
EXACT, SIMILAR = "exact", "similar"
LOSSLESS = {"PNG", "TIFF", "BMP", "DNG", "CR2", "CR3", "NEF", "ARW", "ORF", "RAF", "RW2", "PEF", "SRW"}
_BLOCKS = 4
_POPCOUNT8 = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def popcount64(x: np.ndarray) -> np.ndarray:
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(x).astype(np.uint8)
    return _POPCOUNT8[x.view(np.uint8).reshape(-1, 8)].sum(axis=1, dtype=np.uint8)


@dataclass
class HashSet:
    """The photos to cluster, as parallel arrays. `orient` is (n, 8) uint64 with column 0 the
    upright pHash; `detail` and `lightness` enable the guards (NaN where unknown)."""

    ids: np.ndarray  # int64
    orient: np.ndarray  # (n, 8) uint64
    detail: np.ndarray | None = None
    lightness: np.ndarray | None = None

    @property
    def phash(self) -> np.ndarray:
        return self.orient[:, 0]


def _block_masks(radius: int) -> np.ndarray:
    masks = [0]
    for r in range(1, radius + 1):
        masks.extend(sum(1 << b for b in bits) for bits in itertools.combinations(range(16), r))
    return np.array(masks, dtype=np.uint16)


def candidate_pairs(queries: np.ndarray, table: np.ndarray, threshold: int, budget: int = 1 << 20) -> np.ndarray:
    """All (i, j) with popcount(queries[i] ^ table[j]) <= threshold, as an (m, 2) int64 array.
    Exact (no pair is missed), by multi-index hashing on four 16-bit blocks. Work goes in chunks of
    about `budget` probes so memory stays bounded at any n."""
    masks = _block_masks(threshold // _BLOCKS).astype(np.int64)
    out: list[np.ndarray] = []
    step = max(1, budget // len(masks))
    for block in range(_BLOCKS):
        shift = np.uint64(16 * block)
        t_vals = ((table >> shift) & np.uint64(0xFFFF)).astype(np.int64)
        order = np.argsort(t_vals, kind="stable")
        counts = np.bincount(t_vals, minlength=1 << 16)
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        q_vals = ((queries >> shift) & np.uint64(0xFFFF)).astype(np.int64)
        for lo in range(0, len(queries), step):
            # every query's block value against every neighbour value within the block radius at once
            keys = (q_vals[lo : lo + step, None] ^ masks[None, :]).ravel()
            n_hits = counts[keys]
            hit = np.nonzero(n_hits)[0]
            if not len(hit):
                continue
            q_of = lo + hit // len(masks)
            n_hits, first = n_hits[hit], starts[keys[hit]]
            rep_q = np.repeat(q_of, n_hits)
            offsets = np.arange(len(rep_q)) - np.repeat(np.cumsum(n_hits) - n_hits, n_hits)
            tj = order[np.repeat(first, n_hits) + offsets]
            close = popcount64(queries[rep_q] ^ table[tj]) <= threshold
            if close.any():
                out.append(np.stack((rep_q[close], tj[close]), axis=1))
    if not out:
        return np.empty((0, 2), dtype=np.int64)
    return np.unique(np.concatenate(out), axis=0)


def similar_pairs(hashes: HashSet, threshold: int, rotations: bool) -> tuple[np.ndarray, np.ndarray]:
    """Unique pairs (i < j, indexes into `hashes`) within `threshold`, and their distance (the minimum
    over orientations when `rotations`), after the guards."""
    if not 0 <= threshold <= MAX_THRESHOLD:
        raise ValueError(f"threshold must be between 0 and {MAX_THRESHOLD} bits, not {threshold}")
    upright = hashes.phash
    columns = range(8) if rotations else range(1)
    found = []
    for c in columns:
        pairs = candidate_pairs(hashes.orient[:, c], upright, threshold)
        if len(pairs):
            found.append(pairs)
    if not found:
        return np.empty((0, 2), dtype=np.int64), np.empty(0, dtype=np.uint8)
    pairs = np.concatenate(found)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    pairs = np.unique(np.sort(pairs, axis=1), axis=0)
    dist = pair_distance(hashes, pairs, rotations)
    keep = dist <= threshold
    if hashes.detail is not None:
        detail = np.nan_to_num(hashes.detail, nan=MIN_DETAIL)
        keep &= (detail[pairs[:, 0]] >= MIN_DETAIL) & (detail[pairs[:, 1]] >= MIN_DETAIL)
    if hashes.lightness is not None:
        gap = np.abs(hashes.lightness[pairs[:, 0]] - hashes.lightness[pairs[:, 1]])
        keep &= ~(gap > MAX_LIGHTNESS_GAP)  # NaN (unknown) passes
    return pairs[keep], dist[keep]


def pair_distance(hashes: HashSet, pairs: np.ndarray, rotations: bool) -> np.ndarray:
    a, b = pairs[:, 0], pairs[:, 1]
    if not rotations:
        return popcount64(hashes.orient[a, 0] ^ hashes.orient[b, 0])
    per_orientation = [popcount64(hashes.orient[a, c] ^ hashes.orient[b, 0]) for c in range(8)]
    per_orientation += [popcount64(hashes.orient[b, c] ^ hashes.orient[a, 0]) for c in range(8)]
    return np.minimum.reduce(per_orientation)


def components(n: int, pairs: np.ndarray) -> np.ndarray:
    """Connected-component label per node (union-find with path halving over the edge list)."""
    parent = np.arange(n)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs.tolist():
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return np.array([find(i) for i in range(n)])


# -- keeper --------------------------------------------------------------------------------------------
@dataclass
class PhotoFacts:
    """What the keeper rules look at."""

    id: int
    path: str
    width: int = 0
    height: int = 0
    format: str = ""
    size: int = 0
    has_exif: bool = False
    has_gps: bool = False
    taken_at: str | None = None

    @property
    def pixels(self) -> int:
        return (self.width or 0) * (self.height or 0)


def _rank(p: PhotoFacts) -> tuple:
    return (
        -p.pixels,
        0 if p.format.upper() in LOSSLESS else 1,
        -(int(p.has_exif) + int(p.has_gps)),
        p.taken_at or "9999",
        len(p.path),
        p.path,
    )


def propose_keeper(members: Sequence[PhotoFacts]) -> tuple[PhotoFacts, str]:
    """The copy to keep and why, in words. Rules in order: most pixels, lossless/original format
    over re-encodes, richest metadata, earliest capture date, shortest path."""
    ranked = sorted(members, key=_rank)
    best, runner = ranked[0], ranked[1] if len(ranked) > 1 else ranked[0]
    if best.pixels != runner.pixels:
        return best, f"largest: {best.width}x{best.height} vs {runner.width}x{runner.height}"
    if (best.format.upper() in LOSSLESS) != (runner.format.upper() in LOSSLESS):
        return best, f"lossless {best.format} over the {runner.format} re-encode"
    if best.has_exif + best.has_gps != runner.has_exif + runner.has_gps:
        return best, "richest metadata: " + ("EXIF and GPS" if best.has_gps and best.has_exif else "EXIF")
    if (best.taken_at or "") != (runner.taken_at or ""):
        return best, f"earliest: {(best.taken_at or '')[:10]}"
    return best, "same size, format and metadata: shortest path"


# -- clusters ------------------------------------------------------------------------------------------
@dataclass
class Member:
    id: int
    distance: int  # to the keeper, in bits (0 for the keeper and exact copies)

    @property
    def similarity(self) -> float:
        return round(1.0 - self.distance / 64.0, 4)


@dataclass
class Cluster:
    tier: str
    keeper: int
    keeper_reason: str
    members: list[Member] = field(default_factory=list)
    reclaimable_bytes: int = 0

    @property
    def id(self) -> int:
        """Stable while the cluster keeps its smallest photo: used by `--trash-others ID`."""
        return min(m.id for m in self.members)


def _split_chains(nodes: list[int], hashes: HashSet, facts: dict[int, PhotoFacts], threshold: int,
                  rotations: bool) -> list[tuple[int, list[tuple[int, int]]]]:  # fmt: skip
    """Groups (keeper index, [(member index, distance)]) where everyone is within `threshold` of
    the keeper; members too far from it start a group of their own."""
    groups = []
    rest = nodes
    while len(rest) > 1:
        keeper, _ = propose_keeper([facts[int(hashes.ids[i])] for i in rest])
        k = next(i for i in rest if int(hashes.ids[i]) == keeper.id)
        pairs = np.array([[k, i] for i in rest], dtype=np.int64)
        dist = pair_distance(hashes, pairs, rotations)
        near = [(i, int(d)) for i, d in zip(rest, dist.tolist(), strict=True) if d <= threshold]
        groups.append((k, near))
        rest = [i for i, d in zip(rest, dist.tolist(), strict=True) if d > threshold]
    return [g for g in groups if len(g[1]) > 1]


def find_clusters(
    hashes: HashSet,
    facts: dict[int, PhotoFacts],
    sha256: dict[int, str],
    *,
    tier: str = SIMILAR,
    threshold: int = DEFAULT_THRESHOLD,
    rotations: bool = True,
    not_duplicates: Iterable[tuple[int, int]] = (),
) -> list[Cluster]:
    """Clusters, largest reclaimable space first. The exact tier groups identical files; the
    similar tier also contains exact copies but reports them at distance 0."""
    if tier not in (EXACT, SIMILAR):
        raise ValueError(f"tier is {EXACT!r} or {SIMILAR!r}, not {tier!r}")
    n = len(hashes.ids)
    index_of = {int(pid): i for i, pid in enumerate(hashes.ids.tolist())}
    edges = [_exact_edges(hashes.ids, sha256, index_of)]
    if tier == SIMILAR and n:
        pairs, _ = similar_pairs(hashes, threshold, rotations)
        edges.append(pairs)
    pairs = np.concatenate([e for e in edges if len(e)]) if any(len(e) for e in edges) else np.empty((0, 2), np.int64)
    pairs = _drop_rejected(pairs, hashes.ids, not_duplicates)
    labels = components(n, pairs)
    groups: dict[int, list[int]] = {}
    for i in np.unique(pairs).tolist():
        groups.setdefault(int(labels[i]), []).append(i)
    clusters = []
    for nodes in groups.values():
        exact_group = len({sha256.get(int(hashes.ids[i])) for i in nodes}) == 1
        for k, near in _split_chains(nodes, hashes, facts, threshold if tier == SIMILAR else 0, rotations):
            keeper = facts[int(hashes.ids[k])]
            _, reason = propose_keeper([facts[int(hashes.ids[i])] for i, _ in near])
            members = [Member(int(hashes.ids[i]), 0 if _same_file(sha256, hashes, i, k) else d) for i, d in near]
            members.sort(key=lambda m: (m.id != keeper.id, m.distance, m.id))
            reclaim = sum(facts[m.id].size for m in members if m.id != keeper.id)
            clusters.append(Cluster(EXACT if exact_group else tier, keeper.id, reason, members, reclaim))
    clusters.sort(key=lambda c: (-c.reclaimable_bytes, c.id))
    return clusters


def _same_file(sha256: dict[int, str], hashes: HashSet, i: int, k: int) -> bool:
    a, b = sha256.get(int(hashes.ids[i])), sha256.get(int(hashes.ids[k]))
    return a is not None and a == b


def _exact_edges(ids: np.ndarray, sha256: dict[int, str], index_of: dict[int, int]) -> np.ndarray:
    by_hash: dict[str, list[int]] = {}
    for pid, digest in sha256.items():
        if digest and pid in index_of:
            by_hash.setdefault(digest, []).append(index_of[pid])
    edges = [(group[0], other) for group in by_hash.values() for other in group[1:]]
    return np.array(edges, dtype=np.int64).reshape(-1, 2)


def _drop_rejected(pairs: np.ndarray, ids: np.ndarray, rejected: Iterable[tuple[int, int]]) -> np.ndarray:
    rejected_set = {(min(a, b), max(a, b)) for a, b in rejected}
    if not rejected_set or not len(pairs):
        return pairs
    a, b = ids[pairs[:, 0]], ids[pairs[:, 1]]
    keep = [(min(x, y), max(x, y)) not in rejected_set for x, y in zip(a.tolist(), b.tolist(), strict=True)]
    return pairs[np.array(keep, dtype=bool)]

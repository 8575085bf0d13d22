"""Duplicate clusters in Hamming space, without O(n^2) loops. Pure: no Qt, no catalog.

Tiers: *exact* (same SHA-256), *similar* (pHash distance <= threshold; with rotations on, the
minimum over the 8 orientation hashes of one photo against the upright hash of the other) and
*edited* (crops, watermarks, heavy colour edits: pairs verified geometrically, handed in as
edited_links.EditedLinks; see app/core/edited_tier.py for how they are found).

Candidate pairs come from multi-index hashing: a few disjoint bit blocks of the 64-bit hash, each with
a search radius, such that any pair within the threshold agrees within the radius on at least one
block (pigeonhole). Every hash looks up the table entries whose block value is within the radius of
its own, in a counting table over all block values, and only those candidates get their real
distance checked. Block widths and radii come from a cost model of n and the threshold. Everything is
vectorized numpy over arrays of hashes.

Guards against false matches, measured on ../shared/corpus/dupes: a degenerate pHash (a flat or
smooth picture, where most DCT coefficients tie at the median), too little detail, and a large gap
in mean lightness (a dark design and its light twin) keep a pair out of the similar tier.

Clusters are connected components of the accepted pairs with a chaining guard: every member must be
a duplicate of the cluster's keeper itself (the same file, within the threshold, or a verified edited
copy of it), otherwise the far members are split off and re-clustered on their own. Pairs the user
marked "not duplicates" are never an edge, and the edited tier never joins two frames of a burst.
"""

from __future__ import annotations

import itertools
import json
import math
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property

import numpy as np
from PIL import Image

from app.core.edited_links import EditedLinks, EditLink, Transform, transform
from app.core.palette import chroma_share

# Chosen on ../shared/corpus/dupes (bench/dupes_eval.py: pairwise over 148 files, 8 orientations and
# the guards below, the "hard" crop16x9/heavy variants excluded; clusters as a user sees them):
#   threshold  6: precision 1.00, recall 0.78      threshold 10: precision 1.00, recall 0.92
#   threshold 12: precision 1.00, recall 0.96      threshold 14: precision 1.00, recall 0.98
# Plain pHash at 10 on the same pairs: precision 0.86, recall 0.59 (16 false pairs); 8 orientations
# without guards: 0.91 / 0.91. 10 rather than 12: 12 only adds crop5/watermark copies here, while two
# unrelated random hashes fall within 12 bits 23x as often (2.3e-7 vs 1.0e-8 per pair), which at
# 100k photos is ~1100 chance pairs instead of ~50; and burst shots of one scene sit at 11-14 bits.
DEFAULT_THRESHOLD = 10
MAX_THRESHOLD = 16
# Guards. A real photo's pHash has 32 of 64 bits set (median split of 64 DCT coefficients); flat and
# smooth pictures (white, black, gradients, sky) tie at the median and get 0-2: their bits are noise.
# Flat pictures also have a 32x32 gray std-dev under ~6; dark and light versions of one design differ
# by more than 40 levels of mean gray while a brightness edit of the same photo moves it < 30.
MIN_HASH_BITS, MAX_HASH_BITS = 16, 48
MIN_DETAIL = 6.0
MAX_LIGHTNESS_GAP = 40.0
EXACT, SIMILAR, EDITED = "exact", "similar", "edited"
TIERS = (EXACT, SIMILAR, EDITED)
LOSSLESS = {"PNG", "TIFF", "BMP", "DNG", "CR2", "CR3", "NEF", "ARW", "ORF", "RAF", "RW2", "PEF", "SRW"}
_MAX_BLOCK_BITS = 22  # counting table of 4M entries (16 MB) per block at most
_CANDIDATE_COST = 3.0  # a candidate (gather, xor, popcount) costs about three probes (one lookup)
_BUDGET = 1 << 21  # probes per vectorized chunk: bounds memory at any n
_LEVELS = 8  # bucket members taken level by level; the rest of bigger buckets by np.repeat
# a piece of candidate search, computed when a core is free: (query index, table index) arrays
_Chunk = Callable[[], tuple[np.ndarray, np.ndarray]]
_POPCOUNT8 = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def popcount64(x: np.ndarray) -> np.ndarray:
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(x).astype(np.uint8)
    return _POPCOUNT8[x.view(np.uint8).reshape(-1, 8)].sum(axis=1, dtype=np.uint8)


def dupe_signature(image: Image.Image) -> dict[str, float]:
    """The per-photo guard data, from the oriented working image: `detail` (std-dev of the 32x32
    gray that pHash itself uses; near 0 for flat pictures) and `lightness` (its mean, 0-255). Same
    numbers as `hashing.compute_hashes(...).detail/.lightness`; store either."""
    gray = np.asarray(image.convert("L").resize((32, 32), Image.Resampling.LANCZOS), dtype=np.float32)
    return {"detail": round(float(gray.std()), 3), "lightness": round(float(gray.mean()), 3)}


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

    @classmethod
    def from_signatures(
        cls, ids: Sequence[int], orient: np.ndarray, signatures: Sequence[Mapping[str, float] | None]
    ) -> HashSet:
        """From `dupe_signature` dicts (None where a photo has none yet: its guards are skipped)."""

        def column(name: str) -> np.ndarray:
            return np.array([np.nan if s is None else s.get(name, np.nan) for s in signatures], dtype=np.float64)

        return cls(np.asarray(ids, dtype=np.int64), np.asarray(orient, dtype=np.uint64).reshape(-1, 8),
                   column("detail"), column("lightness"))  # fmt: skip


# -- candidate search ----------------------------------------------------------------------------------
def _probes(width: int, radius: int) -> int:
    return sum(math.comb(width, k) for k in range(radius + 1))


def block_layout(n: int, threshold: int) -> list[tuple[int, int, int]]:
    """Disjoint bit blocks (shift, width, radius) for multi-index search, chosen by a cost model.

    Pigeonhole: if every block differed by more than its radius, the distance would be at least
    sum(radius + 1) > threshold; so a pair within the threshold agrees within radius on one block.
    The blocks need not cover all 64 bits. Wide blocks make buckets nearly empty but need many probes
    (all values within the radius); the model weighs probes against the candidates they return."""
    best: tuple[float, list[tuple[int, int, int]]] = (math.inf, [])
    for m in range(1, threshold + 2):
        for width in range(8, _MAX_BLOCK_BITS + 1):
            if m * width > 64:
                break
            # spread the radius budget sum(r + 1) = threshold + 1 as evenly as possible
            radii = [(threshold + 1) // m - 1 + (i < (threshold + 1) % m) for i in range(m)]
            cost = sum(_probes(width, r) * (1 + _CANDIDATE_COST * n / 2**width) for r in radii if r >= 0)
            if cost < best[0]:
                best = (cost, [(i * width, width, r) for i, r in enumerate(radii) if r >= 0])
    return best[1]


def _masks(width: int, radius: int) -> np.ndarray:
    masks = [0]
    for r in range(1, radius + 1):
        masks.extend(sum(1 << b for b in bits) for bits in itertools.combinations(range(width), r))
    return np.array(masks, dtype=np.int32)


class _Bucketed:
    """One block of the table: its entries sorted by block value, and where each value's run starts."""

    def __init__(self, keys: np.ndarray, width: int) -> None:
        self.order = np.argsort(keys, kind="stable").astype(np.int32)
        self.sorted_keys = keys[self.order]
        self.counts = np.bincount(keys, minlength=1 << width).astype(np.int32)
        self.starts = (np.cumsum(self.counts, dtype=np.int64) - self.counts).astype(np.int32)

    def expand(self, q: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(query, table index) for every table entry whose block value is in row i of `keys` for
        query q[i]. Buckets are small, so members are taken level by level (first member of every
        hit bucket, then the second...) rather than with a per-pair np.repeat; big buckets (many
        identical hashes) go through np.repeat."""
        n_hits = self.counts[keys]
        hit = np.flatnonzero(n_hits)
        q, n_hits, first = q[hit // keys.shape[1]], n_hits.ravel()[hit], self.starts[keys.ravel()[hit]]
        out_q, out_t = [q], [first]
        for level in range(1, _LEVELS):
            more = np.flatnonzero(n_hits > level)
            q, n_hits, first = q[more], n_hits[more], first[more]
            if not len(q):
                break
            out_q.append(q)
            out_t.append(first + level)
        big = n_hits > _LEVELS
        if big.any():
            extra = n_hits[big] - _LEVELS
            offsets = np.arange(int(extra.sum())) - np.repeat(np.cumsum(extra) - extra, extra)
            out_q.append(np.repeat(q[big], extra))
            out_t.append(np.repeat(first[big] + _LEVELS, extra) + offsets)
        return np.concatenate(out_q), self.order[np.concatenate(out_t)]


def candidate_pairs(queries: np.ndarray, table: np.ndarray | None, threshold: int) -> np.ndarray:
    """All (i, j) with popcount(queries[i] ^ table[j]) <= threshold, as a sorted (m, 2) int64 array.

    Exact: no pair is missed (pigeonhole, see `block_layout`) and every pair is verified. With
    `table=None` it is a self-join of `queries` and returns each unordered pair once as i < j, probing
    only towards larger block values so no pair is generated twice. Work goes in chunks of about
    `_BUDGET` probes, so memory stays bounded at any n; chunks are probed and verified on every core
    (numpy's gathers and ufuncs release the GIL), a few at a time."""
    self_join = table is None
    table = queries if table is None else table

    def verified(chunk: _Chunk) -> np.ndarray:
        qi, tj = chunk()
        close = popcount64(queries[qi] ^ table[tj]) <= threshold
        return np.stack((qi[close], tj[close]), axis=1).astype(np.int64)

    def chunks() -> Iterator[_Chunk]:  # lazily, block by block: only the chunks in flight exist
        for shift, width, radius in block_layout(len(table), threshold):
            low = np.uint64((1 << width) - 1)
            t_keys = ((table >> np.uint64(shift)) & low).astype(np.int32)
            buckets = _Bucketed(t_keys, width)
            q_keys = buckets.sorted_keys if self_join else ((queries >> np.uint64(shift)) & low).astype(np.int32)
            q_idx = buckets.order if self_join else np.arange(len(queries), dtype=np.int32)
            yield from _probe(buckets, q_idx, q_keys, _masks(width, radius), self_join)

    found = _map_bounded(verified, chunks())
    pairs = np.concatenate(found) if found else np.empty((0, 2), dtype=np.int64)
    if self_join:
        pairs = np.sort(pairs, axis=1)
    # the same pair can turn up in several blocks: dedupe on one int64 key per pair
    n = max(len(table), len(queries), 1)
    codes = np.unique(pairs[:, 0] * n + pairs[:, 1])
    return np.stack((codes // n, codes % n), axis=1)


def _map_bounded(fn: Callable[[_Chunk], np.ndarray], chunks: Iterable[_Chunk]) -> list[np.ndarray]:
    """fn over the chunks on every core, with at most two chunks per core in flight (each holds
    ~`_BUDGET` probes' worth of arrays)."""
    workers = os.cpu_count() or 1
    if workers <= 1:
        return [fn(c) for c in chunks]
    results: list[np.ndarray] = []
    with ThreadPoolExecutor(workers, thread_name_prefix="dupes") as pool:
        in_flight: deque[Future[np.ndarray]] = deque()
        for chunk in chunks:
            if len(in_flight) >= 2 * workers:
                results.append(in_flight.popleft().result())
            in_flight.append(pool.submit(fn, chunk))
        results.extend(f.result() for f in in_flight)
    return results


def _probe(
    buckets: _Bucketed, q_idx: np.ndarray, q_keys: np.ndarray, masks: np.ndarray, self_join: bool
) -> Iterator[_Chunk]:
    """Candidate (query, table) index arrays, as chunks to compute."""
    if self_join:
        yield from _same_bucket_pairs(buckets)
        masks = masks[1:]
        # a pair of different block values is probed from the smaller one only: the query's bit at
        # the mask's highest set bit must be 0, so query ^ mask > query
        for top in np.unique(np.log2(masks).astype(np.int64)).tolist():
            group = masks[(masks >> top) == 1]
            low_side = np.flatnonzero(((q_keys >> top) & 1) == 0)
            yield from _probe_masks(buckets, q_idx[low_side], q_keys[low_side], group)
    else:
        yield from _probe_masks(buckets, q_idx, q_keys, masks)


def _probe_masks(buckets: _Bucketed, q_idx: np.ndarray, q_keys: np.ndarray, masks: np.ndarray) -> Iterator[_Chunk]:
    if not len(masks) or not len(q_keys):
        return
    step = max(1, _BUDGET // len(masks))
    for lo in range(0, len(q_keys), step):
        q, k = q_idx[lo : lo + step], q_keys[lo : lo + step]
        yield lambda q=q, k=k: buckets.expand(q, k[:, None] ^ masks[None, :])


def _same_bucket_pairs(buckets: _Bucketed) -> Iterator[_Chunk]:
    """Pairs of table entries with the same block value, each once (earlier sorted position first)."""
    sorted_keys, order = buckets.sorted_keys, buckets.order
    n = len(sorted_keys)
    run_end = buckets.starts[sorted_keys] + buckets.counts[sorted_keys]
    after = (run_end - np.arange(n) - 1).astype(np.int64)  # entries after this one in its run
    pos = np.flatnonzero(after)

    def pairs(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n_after = after[p]
        offsets = np.arange(int(n_after.sum()), dtype=np.int64) - np.repeat(
            np.cumsum(n_after, dtype=np.int64) - n_after, n_after
        )
        rep = np.repeat(p, n_after)
        return order[rep], order[rep + 1 + offsets]

    for lo in range(0, len(pos), _BUDGET):
        yield lambda p=pos[lo : lo + _BUDGET]: pairs(p)


def similar_pairs(
    hashes: HashSet, threshold: int, rotations: bool, guards: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Unique pairs (i < j, indexes into `hashes`) within `threshold`, and their distance (the minimum
    over orientations when `rotations`), after the guards."""
    if not 0 <= threshold <= MAX_THRESHOLD:
        raise ValueError(f"threshold must be between 0 and {MAX_THRESHOLD} bits, not {threshold}")
    upright = np.ascontiguousarray(hashes.phash)
    found = [candidate_pairs(upright, None, threshold)]
    if rotations:  # a turned copy: some orientation of one is close to the other as shown
        # one search of the upright hashes in a table of all 7 turned ones (entry c * n + i is photo
        # i turned c + 1 ways), not 7 searches: 1.6x faster at 100k (4.1 s, was 6.5 s), same pairs
        n = len(upright)
        turned = np.ascontiguousarray(hashes.orient[:, 1:].T).reshape(-1)
        hits = candidate_pairs(upright, turned, threshold)
        found.append(np.stack((hits[:, 0], hits[:, 1] % n), axis=1))
    pairs = np.concatenate(found)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    pairs = np.unique(np.sort(pairs, axis=1), axis=0)
    dist = pair_distance(hashes, pairs, rotations)
    keep = dist <= threshold
    if guards:
        keep &= _guarded(hashes, pairs)
    return pairs[keep], dist[keep]


def _guarded(hashes: HashSet, pairs: np.ndarray) -> np.ndarray:
    """Which pairs pass the guards (unknown guard data passes)."""
    a, b = pairs[:, 0], pairs[:, 1]
    bits = popcount64(hashes.phash)
    informative = (bits >= MIN_HASH_BITS) & (bits <= MAX_HASH_BITS)
    keep = informative[a] & informative[b]
    if hashes.detail is not None:
        detail = np.nan_to_num(hashes.detail, nan=MIN_DETAIL)
        keep &= (detail[a] >= MIN_DETAIL) & (detail[b] >= MIN_DETAIL)
    if hashes.lightness is not None:
        keep &= ~(np.abs(hashes.lightness[a] - hashes.lightness[b]) > MAX_LIGHTNESS_GAP)  # NaN passes
    return keep


def pair_distance(hashes: HashSet, pairs: np.ndarray, rotations: bool) -> np.ndarray:
    a, b = pairs[:, 0], pairs[:, 1]
    if not rotations:
        return popcount64(hashes.orient[a, 0] ^ hashes.orient[b, 0])
    per_orientation = [popcount64(hashes.orient[a, c] ^ hashes.orient[b, 0]) for c in range(8)]
    per_orientation += [popcount64(hashes.orient[b, c] ^ hashes.orient[a, 0]) for c in range(8)]
    return np.minimum.reduce(per_orientation)


def components(n: int, pairs: np.ndarray) -> np.ndarray:
    """Connected-component label per node: the smallest node index in its component. Vectorized
    hook-and-jump: every edge hooks the larger root under the smaller, then pointers are halved
    until each node points at its root; O(log n) rounds of array operations."""
    parent = np.arange(n, dtype=np.int64)
    a, b = pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)
    while True:
        ra, rb = parent[a], parent[b]
        differ = ra != rb
        if not differ.any():
            return parent
        np.minimum.at(parent, np.maximum(ra, rb)[differ], np.minimum(ra, rb)[differ])
        while True:
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand


# -- keeper --------------------------------------------------------------------------------------------
# Grayscale vs colour from the stored histogram's coloured share (palette.chroma_share). On the corpus
# gray copies measure 0.0 % and colour photos 30-100 %; near-neutral photos (a star field, a moon)
# sit at 0-5 %. The gap between the two limits keeps JPEG noise around one limit from ever flipping
# the keeper: the rule only demotes a clearly gray copy when a clearly colour one exists.
GRAY_MAX_CHROMA = 1.0
COLOUR_MIN_CHROMA = 10.0


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
    taken_at: str | datetime | date | None = None  # ISO text or a datetime
    jpeg_quality: int | None = None  # estimated from the quantization tables; None when not a JPEG
    # the stored 32-colour histogram (the catalog's colors_json text, or parsed); None: not analyzed
    colors: str | Sequence[Sequence[object]] | None = None
    camera: str = ""  # make and model, "" when unknown

    @property
    def size_px(self) -> tuple[int, int]:
        return (self.width or 0, self.height or 0)

    @property
    def pixels(self) -> int:
        return (self.width or 0) * (self.height or 0)

    @property
    def lossless(self) -> bool:
        return (self.format or "").upper() in LOSSLESS

    @property
    def metadata(self) -> int:
        return int(self.has_exif) + int(self.has_gps)

    @property
    def taken(self) -> str:
        """Capture time as sortable ISO text, "" when unknown."""
        return self.taken_at.isoformat() if isinstance(self.taken_at, date) else (self.taken_at or "")

    @cached_property
    def chroma(self) -> float | None:
        """Percent of the picture in coloured tones, None when unknown. Lazy: only cluster members
        are ever asked, and parsing every photo's histogram would slow each re-cluster."""
        if self.colors is None:
            return None
        try:
            histogram = json.loads(self.colors) if isinstance(self.colors, str) else self.colors
            return chroma_share(histogram) if histogram else None
        except (ValueError, TypeError, IndexError):  # a damaged row must not stop the clustering
            return None

    @property
    def grayscale(self) -> bool:
        return self.chroma is not None and self.chroma < GRAY_MAX_CHROMA

    @property
    def colour(self) -> bool:
        return self.chroma is not None and self.chroma >= COLOUR_MIN_CHROMA


def _rank(p: PhotoFacts, colour_group: bool, cropped: bool) -> tuple:
    # a gray copy of a colour photo is a derivative; unknown quality (not a JPEG) ranks as the lowest
    gray_copy = colour_group and p.grayscale
    quality = p.jpeg_quality or 0
    return (cropped, -p.pixels, not p.lossless, gray_copy, -quality, -p.metadata, p.taken or "9999", len(p.path),
            p.path)  # fmt: skip


# member id -> {id of a photo it is a crop of: (w, h) of the crop in that photo's pixels}
Crops = Mapping[int, Mapping[int, tuple[int, int]]]


def propose_keeper(members: Sequence[PhotoFacts], crops: Crops | None = None) -> tuple[PhotoFacts, str]:
    """The copy to keep and why, in words, against the runner-up. Rules in order: uncropped over a
    crop of it (the larger field of view, known from the edited tier's `crops`), most pixels,
    lossless/original format over re-encodes, colour over a grayscale copy, higher JPEG quality,
    richest metadata, earliest capture date, shortest path. When the runner-up is no crop but
    another member is, the reason says that too."""
    crops = crops or {}
    colour_group = any(p.colour for p in members)
    ranked = sorted(members, key=lambda p: _rank(p, colour_group, p.id in crops))
    best, runner = ranked[0], ranked[1] if len(ranked) > 1 else ranked[0]
    cropped = next((p for p in ranked[1:] if best.id in crops.get(p.id, {})), None)
    if cropped is None or best.id in crops:
        return best, _reason(best, runner, colour_group)
    w, h = crops[cropped.id][best.id]
    if cropped is runner:
        return best, f"uncropped: {best.width}x{best.height}; the other is a {w}x{h} crop of it"
    return best, f"{_reason(best, runner, colour_group)}; uncropped: another is a {w}x{h} crop of it"


def _reason(best: PhotoFacts, runner: PhotoFacts, colour_group: bool) -> str:
    if best.pixels != runner.pixels:
        return f"largest: {best.width}x{best.height} vs {runner.width}x{runner.height}"
    if best.lossless != runner.lossless:
        return f"lossless {best.format} over the {runner.format} re-encode"
    if colour_group and best.grayscale != runner.grayscale:
        return "colour, the others are grayscale"
    if (best.jpeg_quality or 0) != (runner.jpeg_quality or 0):
        if runner.jpeg_quality is None:
            return f"JPEG q{best.jpeg_quality} over the {runner.format or 'other'} copy of unknown quality"
        return f"higher JPEG quality: q{best.jpeg_quality} vs q{runner.jpeg_quality}"
    if best.metadata != runner.metadata:
        return "richest metadata: " + " and ".join(
            n for n, on in (("EXIF", best.has_exif), ("GPS", best.has_gps)) if on
        )
    if best.taken != runner.taken:
        return f"earliest: {best.taken[:10]}"
    return "same size, format and metadata: shortest path"


# -- clusters ------------------------------------------------------------------------------------------
@dataclass
class Member:
    id: int
    distance: int  # to the keeper, in bits (0 for the keeper and exact copies)
    tier: str | None = None  # what makes it a duplicate of the keeper (None: the keeper itself)
    transform: Transform | None = None  # where it lies on the keeper, when the edited tier matched them

    @property
    def similarity(self) -> float:
        """The reference documents' score, 1 - d/64."""
        return round(1.0 - self.distance / 64.0, 4)


@dataclass
class Cluster:
    tier: str
    keeper: int
    keeper_reason: str
    members: list[Member] = field(default_factory=list)  # keeper first, then by distance
    reclaimable_bytes: int = 0  # what trashing every member but the keeper frees

    @property
    def id(self) -> int:
        """Stable while the cluster keeps its smallest photo: used by `--trash-others ID`."""
        return min(m.id for m in self.members)


def tier_set(tiers: str | Iterable[str]) -> frozenset[str]:
    """One tier or several; exact copies belong to every tier."""
    names = {tiers} if isinstance(tiers, str) else set(tiers)
    unknown = names - set(TIERS)
    if unknown or not names:
        raise ValueError(f"tiers are {', '.join(TIERS)}; not {', '.join(sorted(unknown)) or 'none'}")
    return frozenset(names | {EXACT})


def is_burst(a: PhotoFacts, b: PhotoFacts) -> bool:
    """Two frames of one camera taken at different times: never an edited copy of each other (an
    export keeps the camera's capture time)."""
    return bool(a.camera and a.camera == b.camera and a.taken and b.taken and a.taken[:19] != b.taken[:19])


def find_clusters(
    hashes: HashSet,
    facts: Mapping[int, PhotoFacts],
    sha256: Mapping[int, str | bytes],
    *,
    tiers: str | Iterable[str] = SIMILAR,
    threshold: int = DEFAULT_THRESHOLD,
    rotations: bool = True,
    not_duplicates: Iterable[tuple[int, int]] = (),
    edited: EditedLinks | None = None,
) -> list[Cluster]:
    """Clusters, largest reclaimable space first. Every tier contains exact copies (reported at
    distance 0); a cluster whose members are all one file is reported as exact, one with an edited
    member as edited. The edited tier joins the pairs in `edited` (never two frames of a burst)."""
    chosen = tier_set(tiers)
    n = len(hashes.ids)
    digests = _digest_codes(hashes.ids, sha256)
    edges = [_exact_edges(digests)]
    if SIMILAR in chosen and n:
        edges.append(similar_pairs(hashes, threshold, rotations)[0])
    links = _Links(edited if EDITED in chosen else None, facts)
    if links.on:
        edges.append(links.edges(hashes.ids))
    pairs = _drop_rejected(np.concatenate(edges), hashes.ids, not_duplicates)
    labels = components(n, pairs)
    nodes = np.unique(pairs)
    order = nodes[np.argsort(labels[nodes], kind="stable")]
    groups = np.split(order, np.flatnonzero(np.diff(labels[order])) + 1) if len(order) else []
    near = _Near(hashes, facts, digests, threshold if SIMILAR in chosen else -1, rotations, links)
    if links.on:  # the keepers against the members that joined through an edited copy, in one go
        edited_groups = [g.tolist() for g in groups if links.touches(hashes.ids[g].tolist())]
        links.ensure([(near.ids[k], near.ids[i]) for g in edited_groups for k, i in near.unlinked(g)])
    clusters = []
    for group in groups:
        for keeper_i, members in _split_chains(group.tolist(), near):
            clusters.append(_cluster(keeper_i, members, near))
    clusters.sort(key=lambda c: (-c.reclaimable_bytes, c.id))
    return clusters


def _digest_codes(ids: np.ndarray, sha256: Mapping[int, str | bytes]) -> np.ndarray:
    """One small int per distinct digest (-1 where unknown), aligned with `ids`."""
    keys = [sha256.get(int(pid)) or None for pid in ids.tolist()]
    known = [k for k in keys if k is not None]
    codes = {k: i for i, k in enumerate(dict.fromkeys(known))}
    return np.array([-1 if k is None else codes[k] for k in keys], dtype=np.int64)


def _exact_edges(digests: np.ndarray) -> np.ndarray:
    """A star per group of identical files: its first photo to each other one."""
    idx = np.flatnonzero(digests >= 0)
    order = idx[np.argsort(digests[idx], kind="stable")]
    same = digests[order[1:]] == digests[order[:-1]]
    starts = np.maximum.accumulate(np.where(np.concatenate(([False], same)), 0, np.arange(len(order))))
    rest = np.flatnonzero(np.concatenate(([False], same)))
    return np.stack((order[starts[rest]], order[rest]), axis=1).astype(np.int64).reshape(-1, 2)


def _drop_rejected(pairs: np.ndarray, ids: np.ndarray, rejected: Iterable[tuple[int, int]]) -> np.ndarray:
    """Pairs without the ones a person marked as different photos."""
    index_of = {int(pid): i for i, pid in enumerate(ids.tolist())}
    marked = [(index_of[a], index_of[b]) for a, b in rejected if a in index_of and b in index_of]
    if not marked or not len(pairs):
        return pairs
    n = len(ids)
    m = np.sort(np.array(marked, dtype=np.int64), axis=1)
    p = np.sort(pairs, axis=1)
    return pairs[~np.isin(p[:, 0] * n + p[:, 1], m[:, 0] * n + m[:, 1])]


class _Links:
    """The edited tier as the clustering uses it: verified pairs minus bursts, by photo id."""

    def __init__(self, edited: EditedLinks | None, facts: Mapping[int, PhotoFacts]) -> None:
        self.edited, self.facts = edited, facts
        self.on = edited is not None

    def get(self, a: int, b: int) -> EditLink | None:
        link = self.edited.get(a, b) if self.edited is not None else None
        return None if link is None or is_burst(self.facts[a], self.facts[b]) else link

    def touches(self, ids: Iterable[int]) -> bool:
        return self.edited is not None and any(self.edited.neighbours(pid) for pid in ids)

    def ensure(self, pairs: list[tuple[int, int]]) -> None:
        if self.edited is not None:
            self.edited.ensure((a, b) for a, b in pairs if not is_burst(self.facts[a], self.facts[b]))

    def edges(self, ids: np.ndarray) -> np.ndarray:
        index_of = {int(pid): i for i, pid in enumerate(ids.tolist())}
        assert self.edited is not None
        found = [(index_of[a], index_of[b]) for a, b in self.edited.pairs()
                 if a in index_of and b in index_of and self.get(a, b) is not None]  # fmt: skip
        return np.array(found, dtype=np.int64).reshape(-1, 2)

    def crops(self, ids: Sequence[int]) -> Crops:
        """Which of `ids` is a crop of which other, with the crop's size in that photo's pixels."""
        found: dict[int, dict[int, tuple[int, int]]] = {}
        if self.edited is None:
            return found
        group = set(ids)
        for a in ids:
            for b in self.edited.neighbours(a) & group:
                link = self.get(a, b)
                if link is None:
                    continue
                t = transform(link, a, self.facts[a].size_px, self.facts[b].size_px)
                if t.is_crop:  # b shows part of a
                    found.setdefault(b, {})[a] = t.crop[2:]
        return found


@dataclass
class _Near:
    """What decides whether a photo belongs with a keeper: the same file, within the pHash threshold
    (-1: the similar tier is off), or an edited copy of it."""

    hashes: HashSet
    facts: Mapping[int, PhotoFacts]
    digests: np.ndarray
    threshold: int
    rotations: bool
    links: _Links

    @cached_property
    def ids(self) -> list[int]:
        return self.hashes.ids.tolist()

    def keeper(self, nodes: list[int]) -> int:
        ids = [int(self.hashes.ids[i]) for i in nodes]
        best, _ = propose_keeper([self.facts[pid] for pid in ids], self.links.crops(ids))
        return nodes[ids.index(best.id)]

    def tiers(self, k: int, nodes: list[int]) -> tuple[list[str | None], np.ndarray]:
        """Per node, the tier that makes it a duplicate of node k (None: none does), and its pHash
        distance to k."""
        others = np.array(nodes, dtype=np.int64)
        dist = pair_distance(self.hashes, np.stack((np.full_like(others, k), others), axis=1), self.rotations)
        same_file = (self.digests[others] >= 0) & (self.digests[others] == self.digests[k])
        keeper = int(self.hashes.ids[k])
        found: list[str | None] = []
        for i, d, same in zip(nodes, dist.tolist(), same_file.tolist(), strict=True):
            if same or i == k:
                found.append(EXACT)
            elif d <= self.threshold:
                found.append(SIMILAR)
            elif self.links.get(keeper, int(self.hashes.ids[i])) is not None:
                found.append(EDITED)
            else:
                found.append(None)
        return found, np.where(same_file, 0, dist)

    def unlinked(self, nodes: list[int]) -> list[tuple[int, int]]:
        """(keeper, node) for the nodes that are no duplicate of the group's keeper yet."""
        k = self.keeper(nodes)
        found, _ = self.tiers(k, nodes)
        return [(k, i) for i, tier in zip(nodes, found, strict=True) if tier is None]


def _split_chains(nodes: list[int], near: _Near) -> list[tuple[int, list[tuple[int, int, str]]]]:
    """Groups (keeper index, [(member index, distance, tier)]) where everyone is a duplicate of the
    keeper itself; the others start a group of their own, so A~B~C with A and C different never
    lands in one cluster."""
    groups = []
    rest = nodes
    while len(rest) > 1:
        k = near.keeper(rest)
        if near.links.touches(near.ids[i] for i in rest):
            near.links.ensure([(near.ids[k], near.ids[i]) for _, i in near.unlinked(rest)])
        found, dist = near.tiers(k, rest)
        groups.append((k, [(i, d, t) for i, d, t in zip(rest, dist.tolist(), found, strict=True) if t is not None]))
        rest = [i for i, t in zip(rest, found, strict=True) if t is None]
    return [g for g in groups if len(g[1]) > 1]


def _cluster(k: int, near_members: list[tuple[int, int, str]], near: _Near) -> Cluster:
    ids, facts = near.hashes.ids, near.facts
    keeper = int(ids[k])
    member_ids = [int(ids[i]) for i, _, _ in near_members]
    _, reason = propose_keeper([facts[pid] for pid in member_ids], near.links.crops(member_ids))
    members = []
    for i, d, tier in near_members:
        pid = int(ids[i])
        link = near.links.get(keeper, pid) if pid != keeper else None
        where = transform(link, keeper, facts[keeper].size_px, facts[pid].size_px) if link else None
        members.append(Member(pid, d, None if pid == keeper else tier, where))
    members.sort(key=lambda m: (m.id != keeper, m.distance, m.id))
    one_file = len({int(near.digests[i]) for i, _, _ in near_members}) == 1 and near.digests[k] >= 0
    tiers = {m.tier for m in members}
    tier = EXACT if one_file else EDITED if EDITED in tiers else SIMILAR if SIMILAR in tiers else EXACT
    reclaim = sum(facts[m.id].size for m in members if m.id != keeper)
    return Cluster(tier, keeper, reason, members, reclaim)

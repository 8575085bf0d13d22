"""The edited tier's candidate pairs, kept between runs in the library folder: a search over 100k
photos takes ~35 s (app/core/feature_neighbours.py), reading it back well under one.

The cache holds the photo ids, a checksum of each photo's feature vector and the pairs found. On the
next run, photos whose vector is new or changed (imported, re-analysed) are looked up exactly
against every photo and their pairs replace the old ones; pairs of removed photos are dropped. When
more than REFRESH_SHARE of the photos changed, or the search settings did, it is searched again.
An added photo is found from its own side: it joins an old photo's pairs when the old photo is among
its TOP best, which is how every crop in the corpus finds its original (edited_tier.py). A photo
that would only have been among an old photo's best and not the other way round waits for the next
full search. The cache is not user data: any read problem means a new search.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from app.core.feature_neighbours import EXACT_LIMIT, REDUCED_TOP, neighbour_pairs, project, widened

REFRESH_SHARE = 0.02  # above this share of changed photos a full search is about as quick
_FORMAT = 1
_BLOCK = 8192  # photos widened and scored against the changed ones at a time


def row_checksums(vectors: np.ndarray) -> np.ndarray:
    """A uint64 per row that changes when any component does: each 8-byte word multiplied by an
    odd constant (a bijection) plus its position, all XORed (~0.15 s for 100k 1280-D rows)."""
    raw = np.ascontiguousarray(vectors).view(np.uint8).reshape(len(vectors), -1)
    if raw.shape[1] % 8:
        raw = np.pad(raw, ((0, 0), (0, 8 - raw.shape[1] % 8)))
    words = raw.view(np.uint64)
    mixed = words * np.uint64(0x9E3779B97F4A7C15) + np.arange(words.shape[1], dtype=np.uint64)
    return np.bitwise_xor.reduce(mixed, axis=1)


def neighbour_pairs_cached(
    cache: Path, ids: np.ndarray, vectors: np.ndarray, *, top: int, floor: float
) -> list[tuple[int, int]]:
    """Photo id pairs, best first on a full search (the pairs of changed photos follow), as
    neighbour_pairs finds them, reusing `cache` where it can and rewriting it."""
    sums = row_checksums(vectors)
    old = _load(cache, top, floor)
    changed = _changed_rows(old, ids, sums) if old is not None else None
    if old is None or changed is None or len(changed) > REFRESH_SHARE * len(ids):
        found, _ = neighbour_pairs(vectors, top=top, floor=floor)
        pairs = ids[found] if len(found) else np.empty((0, 2), np.int64)
    else:
        pairs = _refreshed(old["pairs"], ids, vectors, changed, top, floor)
    _save(cache, ids, sums, pairs, top, floor)
    return [(int(a), int(b)) for a, b in pairs.tolist()]


def _load(cache: Path, top: int, floor: float) -> dict[str, np.ndarray] | None:
    try:
        with np.load(cache) as data:
            stored = {key: data[key] for key in ("ids", "sums", "pairs", "settings")}
    except (OSError, ValueError, KeyError, EOFError):
        return None
    if stored["settings"].tolist() != [_FORMAT, top, floor]:
        return None
    return stored


def _changed_rows(old: dict[str, np.ndarray], ids: np.ndarray, sums: np.ndarray) -> np.ndarray | None:
    """Rows of `ids` whose photo is new or whose vector changed; None when `old` cannot be used."""
    if len(old["ids"]) != len(old["sums"]) or old["pairs"].ndim != 2:
        return None
    where = np.searchsorted(old["ids"], ids)
    known = where < len(old["ids"])
    known[known] = old["ids"][where[known]] == ids[known]
    same = known.copy()
    same[known] = old["sums"][where[known]] == sums[known]
    return np.flatnonzero(~same)


def _refreshed(
    old_pairs: np.ndarray, ids: np.ndarray, vectors: np.ndarray, changed: np.ndarray, top: int, floor: float
) -> np.ndarray:
    """The old pairs of unchanged photos that are still there, then the changed photos' pairs."""
    stale = np.setdiff1d(ids, ids[changed])  # photos whose pairs still hold
    keep = np.isin(old_pairs, stale).all(axis=1) if len(old_pairs) else np.zeros(0, bool)
    best, score = _exact_top(vectors, changed, top)
    good = score >= floor
    fresh = np.sort(np.stack((np.repeat(ids[changed], top)[good.ravel()], ids[best[good]]), axis=1), axis=1)
    pairs = np.concatenate((old_pairs[keep].reshape(-1, 2), fresh)).astype(np.int64)
    _, first = np.unique(pairs, axis=0, return_index=True)
    return pairs[np.sort(first)]


def _exact_top(vectors: np.ndarray, rows: np.ndarray, top: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, top) indices of each row's best other rows and their cosines on the full vectors.
    Ranked as the full search ranks (feature_neighbours): every product on the full vectors up to
    EXACT_LIMIT photos; above it on the projection, whose REDUCED_TOP best are then scored in full."""
    n = len(vectors)
    exact = n <= EXACT_LIMIT
    carry = top if exact else REDUCED_TOP
    best = np.zeros((len(rows), carry), np.int64)
    score = np.full((len(rows), carry), -np.inf, np.float32)
    if not len(rows):
        return best[:, :top], score[:, :top]
    points = widened(vectors, slice(None)) if exact else project(vectors)
    queries = points[rows]
    for start in range(0, n, _BLOCK):
        block = np.arange(start, min(n, start + _BLOCK))
        scores = queries @ points[start : block[-1] + 1].T
        scores[block[None, :] == rows[:, None]] = -np.inf  # not itself
        every = np.concatenate((best, np.broadcast_to(block, scores.shape)), axis=1)
        scores = np.concatenate((score, scores), axis=1)
        keep = np.argpartition(-scores, carry - 1, axis=1)[:, :carry]
        best, score = np.take_along_axis(every, keep, axis=1), np.take_along_axis(scores, keep, axis=1)
    if not exact:  # the projection ranks; the full vectors score
        full = widened(vectors, best.ravel()).reshape(*best.shape, -1)
        score = np.einsum("ijk,ik->ij", full, widened(vectors, rows))
        keep = np.argsort(-score, axis=1)[:, :top]
        best, score = np.take_along_axis(best, keep, axis=1), np.take_along_axis(score, keep, axis=1)
    return best, score


def _save(cache: Path, ids: np.ndarray, sums: np.ndarray, pairs: np.ndarray, top: int, floor: float) -> None:
    """Written whole under another name first: a crash leaves the old cache or none, never half."""
    order = np.argsort(ids, kind="stable")
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache.parent, prefix=cache.name, suffix=".tmp")
    except OSError:  # a read-only library folder: the next run searches again
        return
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, ids=ids[order], sums=sums[order], pairs=pairs, settings=np.array([_FORMAT, top, floor]))
        os.replace(tmp, cache)
    except OSError:
        Path(tmp).unlink(missing_ok=True)

"""Each photo's nearest neighbours by the classifier's features (cosine of the stored L2-normalised
1280-D vectors, the Find Similar score): the edited tier's candidates. Pure numpy, no catalog.

No pairwise loop and no n x n matrix:
1. Above EXACT_LIMIT, the vectors are projected on their top REDUCED_DIMS principal directions (an uncentred PCA of a
   sample, so dot products are kept: x.y = x'.y' + r.r', with r the part the projection drops).
2. Up to EXACT_LIMIT photos, every pair is scored in blocks, on the full vectors (exact). Above it,
   an inverted file: spherical k-means cells (about sqrt(n)); each photo lives in its nearest cell
   and looks into its PROBES nearest cells, so only ~PROBES * sqrt(n) scores per photo are computed.
3. Per photo, the REDUCED_TOP best by projected score (plus |r_i||r_j|, an upper bound of what the
   projection dropped) are re-scored on the full vectors; pairs at or above `floor` are kept when one
   of the two has the other among its `top` best.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import cv2
import numpy as np

REDUCED_DIMS = 128
EXACT_LIMIT = 5_000  # up to this every pair is scored, on the full vectors (5k photos: ~2 s)
PROBES = 12  # cells each photo looks into (measured in bench/dupes_bench.py: recall of planted pairs)
REDUCED_TOP = 24  # candidates per photo carried from the projected scores to the full ones
KMEANS_SAMPLE = 64  # photos per cell used to train the cells
KMEANS_ROUNDS = 8
_PCA_SAMPLE = 8192
_BLOCK = 2048  # rows per product: a 2048 x 20k float32 block is 160 MB at the exact limit
_CHUNK = 8192  # rows widened from float16 at a time


def widened(vectors: np.ndarray, rows: np.ndarray | slice) -> np.ndarray:
    """float32 rows; OpenCV widens float16 about twice as fast as numpy (F16C)."""
    block = vectors[rows]
    return cv2.convertFp16(block) if block.dtype == np.float16 else block.astype(np.float32, copy=False)


def _chunks(n: int, size: int = _CHUNK) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))


def project(vectors: np.ndarray, dims: int = REDUCED_DIMS, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(n, dims) float32 projections and (n,) norms of what each row loses (|r|)."""
    n, d = vectors.shape
    dims = min(dims, d, n)
    rng = np.random.default_rng(seed)
    sample = widened(vectors, np.sort(rng.choice(n, size=min(n, _PCA_SAMPLE), replace=False)))
    # randomized subspace iteration (Halko et al.): a full eigendecomposition of the 1280 x 1280
    # second moment takes seconds, this a tenth of one
    basis = rng.standard_normal((d, min(d, dims + 16))).astype(np.float32)
    for _ in range(4):
        basis = _orthonormal(sample.T @ (sample @ basis))
    _, rotation = np.linalg.eigh(basis.T @ (sample.T @ (sample @ basis)))
    basis = np.ascontiguousarray((basis @ rotation[:, ::-1])[:, :dims])  # (d, dims), strongest first
    reduced = np.empty((n, dims), np.float32)
    lost = np.empty(n, np.float32)
    for rows in _chunks(n):
        full = widened(vectors, rows)
        reduced[rows] = full @ basis
        lost[rows] = np.sqrt(np.maximum(0.0, (full * full).sum(axis=1) - (reduced[rows] ** 2).sum(axis=1)))
    return reduced, lost


def _orthonormal(a: np.ndarray) -> np.ndarray:
    """Orthonormal columns spanning `a`'s, through the small Gram matrix (LAPACK's QR of a tall
    matrix stalls for seconds on a busy machine; this is two small products)."""
    values, vectors = np.linalg.eigh(a.T @ a)
    return a @ (vectors / np.sqrt(np.maximum(values, values.max() * 1e-12)))


def _cells(reduced: np.ndarray, n_cells: int, rng: np.random.Generator) -> np.ndarray:
    """Spherical k-means centroids (n_cells, dims), trained on a sample."""
    n = len(reduced)
    sample = reduced[rng.choice(n, size=min(n, KMEANS_SAMPLE * n_cells), replace=False)]
    sample = sample / np.maximum(np.linalg.norm(sample, axis=1, keepdims=True), 1e-6)
    centroids = sample[rng.choice(len(sample), size=n_cells, replace=False)].copy()
    for _ in range(KMEANS_ROUNDS):
        nearest = np.argmax(sample @ centroids.T, axis=1)
        sums = np.zeros_like(centroids)
        np.add.at(sums, nearest, sample)
        empty = np.linalg.norm(sums, axis=1) == 0
        sums[empty] = sample[rng.choice(len(sample), size=int(empty.sum()), replace=False)]  # reseed
        centroids = sums / np.linalg.norm(sums, axis=1, keepdims=True)
    return centroids


def _candidates(reduced: np.ndarray, lost: np.ndarray, floor: float, exact_limit: int, seed: int) -> np.ndarray:
    """(m, 2) pairs (i, j), i != j: each photo's REDUCED_TOP best by the projected score plus its
    bound |r_i||r_j|, among those that may reach `floor`, in the cells it looks into."""
    n, top = len(reduced), min(REDUCED_TOP, len(reduced) - 1)
    best_ids = np.full((n, top), -1, np.int64)
    best_scores = np.full((n, top), -np.inf, np.float32)

    def search(queries: np.ndarray, members: np.ndarray) -> None:
        """Merge the best of `members` into the running best of each query (a query meets a member
        at most once: every photo lives in one cell). Scores under a query's current worst kept
        one, or under the floor, are dropped by a comparison; only the rest are sorted."""
        scores = reduced[queries] @ reduced[members].T
        scores += lost[queries, None] * lost[None, members]  # what the projection may have dropped
        scores[queries[:, None] == members[None, :]] = -np.inf
        bar = np.maximum(best_scores[queries].min(axis=1), floor)
        rows = np.flatnonzero((scores >= bar[:, None]).any(axis=1))
        if not len(rows):
            return
        queries, scores = queries[rows], scores[rows]
        if scores.shape[1] > top:
            cols = np.argpartition(-scores, top - 1, axis=1)[:, :top]
            scores, ids = np.take_along_axis(scores, cols, axis=1), members[cols]
        else:
            ids = np.broadcast_to(members, scores.shape)
        merged_scores = np.concatenate((best_scores[queries], scores), axis=1)
        merged_ids = np.concatenate((best_ids[queries], ids), axis=1)
        pick = np.argpartition(-merged_scores, top - 1, axis=1)[:, :top]
        best_scores[queries] = np.take_along_axis(merged_scores, pick, axis=1)
        best_ids[queries] = np.take_along_axis(merged_ids, pick, axis=1)

    if n <= exact_limit:
        everyone = np.arange(n)
        for start in range(0, n, _BLOCK):
            search(everyone[start : start + _BLOCK], everyone)
    else:
        for queries, members in _inverted_file(reduced, seed):
            search(queries, members)
    rows, cols = np.nonzero((best_scores >= floor) & (best_ids >= 0))
    return np.stack((rows, best_ids[rows, cols]), axis=1)


def _inverted_file(reduced: np.ndarray, seed: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(queries, members) blocks: each cell's photos, and the photos that look into that cell."""
    n = len(reduced)
    centroids = _cells(reduced, max(2, round(math.sqrt(n))), np.random.default_rng(seed))
    probes = np.empty((n, min(PROBES, len(centroids))), np.int64)
    home = np.empty(n, np.int64)
    for rows in _chunks(n):
        near = reduced[rows] @ centroids.T
        probes[rows] = np.argpartition(-near, probes.shape[1] - 1, axis=1)[:, : probes.shape[1]]
        home[rows] = np.argmax(near, axis=1)
    by_home = np.argsort(home, kind="stable")
    member_bounds = np.searchsorted(home[by_home], np.arange(len(centroids) + 1))
    by_probe = np.argsort(probes.ravel(), kind="stable")
    query_bounds = np.searchsorted(probes.ravel()[by_probe], np.arange(len(centroids) + 1))
    query_of_probe = by_probe // probes.shape[1]
    for cell in range(len(centroids)):
        members = by_home[member_bounds[cell] : member_bounds[cell + 1]]
        queries = query_of_probe[query_bounds[cell] : query_bounds[cell + 1]]
        for start in range(0, len(queries) if len(members) else 0, _BLOCK):
            yield queries[start : start + _BLOCK], members


def neighbour_pairs(
    vectors: np.ndarray, *, top: int, floor: float, exact_limit: int = EXACT_LIMIT, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Unique pairs (i < j) with cosine >= `floor` where j is among i's `top` best or i among j's,
    and their cosine (float32), best first. `vectors`: (n, d) rows of unit length, float16 or 32."""
    n = len(vectors)
    if n < 2:
        return np.empty((0, 2), np.int64), np.empty(0, np.float32)
    if n <= exact_limit:  # every pair, on the full vectors: exact
        reduced, lost = widened(vectors, slice(None)), np.zeros(n, np.float32)
    else:
        reduced, lost = project(vectors, seed=seed)
    pairs = np.unique(np.sort(_candidates(reduced, lost, floor, exact_limit, seed), axis=1), axis=0)
    cosine = np.empty(len(pairs), np.float32)
    for rows in _chunks(len(pairs)):
        a, b = widened(vectors, pairs[rows, 0]), widened(vectors, pairs[rows, 1])
        cosine[rows] = np.einsum("ij,ij->i", a, b)
    keep = cosine >= floor
    pairs, cosine = pairs[keep], cosine[keep]
    # each photo's `top` best partners: rank both directions of every pair by score
    both = np.concatenate((pairs, pairs[:, ::-1]))
    score = np.concatenate((cosine, cosine))
    order = np.lexsort((-score, both[:, 0]))
    first = np.searchsorted(both[order, 0], both[order, 0])
    rank = np.arange(len(order)) - first
    chosen = np.zeros(len(pairs), bool)
    chosen[order[rank < top] % max(len(pairs), 1)] = True
    pairs, cosine = pairs[chosen], cosine[chosen]
    best = np.argsort(-cosine, kind="stable")
    return pairs[best], cosine[best]

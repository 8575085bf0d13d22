"""Each photo's nearest neighbours by the classifier's features (cosine of the stored L2-normalised
1280-D vectors, the Find Similar score): the edited tier's candidates. Pure numpy, no catalog.

No loop over pairs and no n x n matrix: blocks of matrix products, each photo keeping its running
REDUCED_TOP best (a comparison with its current worst drops most scores before anything is sorted).
- Up to EXACT_LIMIT photos every pair is scored, on the full vectors: exact.
- Above it, the vectors are projected on their top REDUCED_DIMS principal directions (randomized
  PCA of a sample; the projection's cosine ranks near copies first but bounds nothing) and sorted
  into an inverted file: spherical k-means cells, about sqrt(n) of them. Each photo lives in its
  nearest cell and looks into its PROBES nearest: ~PROBES * sqrt(n) products per photo, n^1.5 in
  all. Its REDUCED_TOP best are then scored on the full vectors.
Pairs at or above `floor` are kept when one of the two has the other among its `top` best.
Measured in bench/dupes_bench.py on synthetic features shaped like the corpus' (a common mean, the
principal spectrum 0.068 k^-0.9), 10 % of them with a copy at cosine 0.7-0.99, 50k photos: 12 probes
find 98.0 % of the copies, 16 find 99.0 %, 24 find 99.6 % for ~20 % more time.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import cv2
import numpy as np

REDUCED_DIMS = 128  # at 64 a copy's rank among 20k photos reaches 114, at 128 it stays <= 2
EXACT_LIMIT = 5_000  # up to this every pair is scored, on the full vectors (5k photos: ~2 s)
PROBES = 24  # cells each photo looks into (two inverted files of 12 probes each do no better)
REDUCED_TOP = 12  # candidates per photo carried from the projected scores to the full ones
KMEANS_SAMPLE = 64  # photos per cell used to train the cells
KMEANS_ROUNDS = 8
_PCA_SAMPLE = 8192
_BLOCK = 2048  # rows per product: at the exact limit a 2048 x 5000 float32 block, 41 MB
_CHUNK = 8192  # rows widened from float16 at a time


def widened(vectors: np.ndarray, rows: np.ndarray | slice) -> np.ndarray:
    """float32 rows; OpenCV widens float16 about twice as fast as numpy (F16C)."""
    block = vectors[rows]
    return cv2.convertFp16(block) if block.dtype == np.float16 else block.astype(np.float32, copy=False)


def _chunks(n: int, size: int = _CHUNK) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))


def project(vectors: np.ndarray, dims: int = REDUCED_DIMS, seed: int = 0) -> np.ndarray:
    """(n, dims) float32: each row's projection on the top `dims` principal directions, scaled to
    unit length (so that products rank by cosine in the projection)."""
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
    points = np.empty((n, dims), np.float32)
    for rows in _chunks(n):
        reduced = widened(vectors, rows) @ basis
        points[rows] = reduced / np.maximum(np.linalg.norm(reduced, axis=1, keepdims=True), 1e-6)
    return points


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


def _candidates(points: np.ndarray, floor: float, cells: bool, seed: int) -> np.ndarray:
    """(m, 2) pairs (i, j), i != j: each photo's REDUCED_TOP best by `points` products at or above
    `floor`; with `cells`, only among the cells it looks into."""
    n, top = len(points), min(REDUCED_TOP, len(points) - 1)
    best_ids = np.full((n, top), -1, np.int64)
    best_scores = np.full((n, top), -np.inf, np.float32)

    def search(queries: np.ndarray, members: np.ndarray) -> None:
        """Merge the best of `members` (ascending ids) into the running best of each query; a query
        meets a member at most once (every photo lives in one cell). Scores under a query's worst
        kept one, or under the floor, are dropped by a comparison; only the rest are sorted."""
        scores = points[queries] @ points[members].T
        at = np.minimum(np.searchsorted(members, queries), len(members) - 1)
        itself = np.flatnonzero(members[at] == queries)
        scores[itself, at[itself]] = -np.inf
        bar = np.maximum(best_scores[queries].min(axis=1), floor)
        hit = scores >= bar[:, None]
        counts = hit.sum(axis=1)
        few, many = np.flatnonzero((counts > 0) & (counts <= top)), np.flatnonzero(counts > top)
        if not len(few) and not len(many):
            return
        # rows with a few scores over the bar take them as they are; only crowded rows get sorted
        r, c = np.nonzero(hit[few])
        slot = np.arange(len(r)) - np.searchsorted(r, r)
        new_scores = np.full((len(few), top), -np.inf, np.float32)
        new_ids = np.full((len(few), top), -1, np.int64)
        new_scores[r, slot], new_ids[r, slot] = scores[few[r], c], members[c]
        if len(many):
            cols = np.argpartition(-scores[many], top - 1, axis=1)[:, :top]
            new_scores = np.concatenate((new_scores, np.take_along_axis(scores[many], cols, axis=1)))
            new_ids = np.concatenate((new_ids, members[cols]))
        queries, scores, ids = queries[np.concatenate((few, many))], new_scores, new_ids
        merged_scores = np.concatenate((best_scores[queries], scores), axis=1)
        merged_ids = np.concatenate((best_ids[queries], ids), axis=1)
        pick = np.argpartition(-merged_scores, top - 1, axis=1)[:, :top]
        best_scores[queries] = np.take_along_axis(merged_scores, pick, axis=1)
        best_ids[queries] = np.take_along_axis(merged_ids, pick, axis=1)

    if cells:
        for queries, members in _inverted_file(points, seed):
            search(queries, members)
    else:
        everyone = np.arange(n)
        for start in range(0, n, _BLOCK):
            search(everyone[start : start + _BLOCK], everyone)
    rows, cols = np.nonzero((best_scores >= floor) & (best_ids >= 0))
    return np.stack((rows, best_ids[rows, cols]), axis=1)


def _inverted_file(reduced: np.ndarray, seed: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(queries, members) blocks: first each cell's photos against each other, then the photos that
    look into a cell from elsewhere. Home first fills every photo's running best with its likeliest
    partners, so that in the second pass most scores fall under the bar and nothing gets sorted."""
    n = len(reduced)
    centroids = _cells(reduced, max(2, round(math.sqrt(n))), np.random.default_rng(seed))
    probes = np.empty((n, min(PROBES, len(centroids))), np.int64)
    for rows in _chunks(n):
        near = reduced[rows] @ centroids.T
        nearest = np.argpartition(-near, probes.shape[1] - 1, axis=1)[:, : probes.shape[1]]
        order = np.argsort(-np.take_along_axis(near, nearest, axis=1), axis=1)
        probes[rows] = np.take_along_axis(nearest, order, axis=1)  # nearest first: column 0 is home
    home = probes[:, 0]
    by_home = np.argsort(home, kind="stable")  # ascending ids within each cell
    member_bounds = np.searchsorted(home[by_home], np.arange(len(centroids) + 1))
    away = probes[:, 1:].ravel()
    by_probe = np.argsort(away, kind="stable")
    query_bounds = np.searchsorted(away[by_probe], np.arange(len(centroids) + 1))
    query_of_probe = by_probe // max(1, probes.shape[1] - 1)

    def members(cell: int) -> np.ndarray:
        return by_home[member_bounds[cell] : member_bounds[cell + 1]]

    for cell in range(len(centroids)):
        for start in range(0, len(members(cell)), _BLOCK):
            yield members(cell)[start : start + _BLOCK], members(cell)
    for cell in range(len(centroids)):
        queries = query_of_probe[query_bounds[cell] : query_bounds[cell + 1]]
        for start in range(0, len(queries) if len(members(cell)) else 0, _BLOCK):
            yield queries[start : start + _BLOCK], members(cell)


def neighbour_pairs(
    vectors: np.ndarray, *, top: int, floor: float, exact_limit: int = EXACT_LIMIT, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Unique pairs (i < j) with cosine >= `floor` where j is among i's `top` best or i among j's,
    and their cosine (float32), best first. `vectors`: (n, d) rows of unit length, float16 or 32."""
    n = len(vectors)
    if n < 2:
        return np.empty((0, 2), np.int64), np.empty(0, np.float32)
    exact = n <= exact_limit  # every pair, on the full vectors
    points = widened(vectors, slice(None)) if exact else project(vectors, seed=seed)
    # the projection's cosine ranks but bounds nothing: there, each photo's REDUCED_TOP best go on
    pairs = np.unique(np.sort(_candidates(points, floor if exact else -1.0, not exact, seed), axis=1), axis=0)
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

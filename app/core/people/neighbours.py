"""Near neighbours among face descriptors without an n x n distance matrix.

An inverted-file index: k-means cells over the vectors (trained on a sample), every vector in its
nearest cell, and each cell's members compared, in blocks, with the members of the PROBES cells
whose centres are nearest to its own. Faces of one person sit in one or two neighbouring cells, so
this finds nearly every pair within a face-matching radius while computing a few percent of all
distances. Up to `k` neighbours within the radius are kept per vector. Below EXACT_UP_TO vectors
everything is compared with everything (one cell), which is exact.
"""

from __future__ import annotations

import numpy as np

from app.core.people.compute import one_blas_thread, parallel_map

EXACT_UP_TO = 8192
CELL_SIZE = 128  # mean vectors per cell: each query block then meets ~PROBES * 128 candidates
PROBES = 6
KMEANS_SAMPLE = 32768
KMEANS_ROUNDS = 8
QUERY_BLOCK = 512  # query rows per distance block
SEED = 20240613  # fixed: the same library gives the same groups on every run


def _squared_norms(x: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", x, x)


def _nearest(x: np.ndarray, centres: np.ndarray, count: int = 1) -> np.ndarray:
    """Indexes of the `count` centres nearest to each row of x (n x count), in blocks."""
    c_norms = _squared_norms(centres)
    out = np.empty((len(x), count), dtype=np.int64)
    for start in range(0, len(x), 8192):
        block = x[start : start + 8192]
        d = c_norms[None, :] - 2.0 * block @ centres.T  # the query's own norm changes no ranking
        if count == 1:
            out[start : start + len(block), 0] = d.argmin(axis=1)
        else:
            part = np.argpartition(d, count - 1, axis=1)[:, :count]
            order = np.take_along_axis(d, part, axis=1).argsort(axis=1)
            out[start : start + len(block)] = np.take_along_axis(part, order, axis=1)
    return out


def _cells(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(centres, cell of each vector) by a few rounds of k-means on a sample."""
    n = len(x)
    count = max(1, n // CELL_SIZE) if n > EXACT_UP_TO else 1
    if count == 1:
        return x.mean(axis=0, keepdims=True), np.zeros(n, dtype=np.int64)
    rng = np.random.default_rng(SEED)
    sample = x[rng.choice(n, size=min(n, KMEANS_SAMPLE), replace=False)]
    centres = sample[rng.choice(len(sample), size=count, replace=False)].copy()
    for _ in range(KMEANS_ROUNDS):
        assigned = _nearest(sample, centres)[:, 0]
        by_cell = np.argsort(assigned, kind="stable")
        filled, starts, counts = np.unique(assigned[by_cell], return_index=True, return_counts=True)
        centres[filled] = np.add.reduceat(sample[by_cell], starts, axis=0) / counts[:, None]
    return centres, _nearest(x, centres)[:, 0]


def neighbour_pairs(vectors: np.ndarray, radius: float, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (i, j, distance) with i < j, each vector keeping up to `k` of its nearest neighbours
    within `radius` (a pair is kept when either end keeps it). Cells are searched in parallel
    (people/compute.py), each product on one BLAS thread."""
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    n = len(x)
    empty = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
    if n < 2:
        return empty
    with one_blas_thread():
        centres, cell = _cells(x)
        order = np.argsort(cell, kind="stable")
        bounds = np.searchsorted(cell[order], np.arange(len(centres) + 1))
        probes = _nearest(centres, centres, min(PROBES, len(centres)))
        probes[:, 0] = np.arange(len(centres))  # its own cell first (the nearest unless two centres tie)
        search = _CellSearch(x, _squared_norms(x), order, bounds, probes, radius * radius, k)
        found = [part for part in parallel_map(search, range(len(centres))) if len(part[0])]
    if not found:
        return empty
    i, j, d = (np.concatenate(column) for column in zip(*found, strict=True))
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    other = lo != hi  # a vector met again through a duplicated cell is not its own neighbour
    lo, hi, d = lo[other], hi[other], d[other]
    _, first = np.unique(lo * n + hi, return_index=True)
    return lo[first], hi[first], d[first].astype(np.float32)


class _CellSearch:
    """The pairs found from one cell's members: each against its cell and the nearest cells."""

    def __init__(self, x: np.ndarray, norms: np.ndarray, order: np.ndarray, bounds: np.ndarray,
                 probes: np.ndarray, radius2: float, k: int) -> None:  # fmt: skip
        self.x, self.norms, self.order, self.bounds, self.probes = x, norms, order, bounds, probes
        self.radius2, self.k = radius2, k

    def __call__(self, c: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x, norms, order, bounds = self.x, self.norms, self.order, self.bounds
        members = order[bounds[c] : bounds[c + 1]]
        pool = np.concatenate([order[bounds[p] : bounds[p + 1]] for p in self.probes[c]])  # own cell first
        keep = min(self.k, len(pool) - 1)
        found_i, found_j, found_d = [np.empty(0, np.int64)], [np.empty(0, np.int64)], [np.empty(0, np.float32)]
        if not len(members) or keep <= 0:
            return found_i[0], found_j[0], found_d[0]
        pool_x, pool_norms = x[pool], norms[pool]
        for start in range(0, len(members), QUERY_BLOCK):
            queries = members[start : start + QUERY_BLOCK]
            d2 = x[queries] @ pool_x.T  # in place from here: these blocks are the bulk of the work
            d2 *= -2.0
            d2 += pool_norms
            d2 += norms[queries, None]
            d2[np.arange(len(queries)), start + np.arange(len(queries))] = np.inf  # not oneself
            # the k-th smallest distance of each row bounds what it keeps (ties may keep a few more)
            limit = np.full((len(queries), 1), self.radius2, dtype=d2.dtype)
            if keep < len(pool):
                np.minimum(limit, np.partition(d2, keep - 1, axis=1)[:, keep - 1 : keep], out=limit)
            rows, cols = np.nonzero(d2 <= limit)
            found_i.append(queries[rows])
            found_j.append(pool[cols])
            found_d.append(np.sqrt(np.maximum(d2[rows, cols], 0.0)))
        return np.concatenate(found_i), np.concatenate(found_j), np.concatenate(found_d)

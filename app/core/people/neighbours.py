"""Near neighbours among face descriptors without an n x n distance matrix.

An inverted-file index: k-means cells over the vectors (trained on a sample), every vector in its
nearest cell; each vector is compared, in blocks, with the members of the PROBES cells whose centres
are nearest to *it*, and keeps up to `k` neighbours within the radius. Faces of one person sit in one
or two neighbouring cells, so this finds nearly every pair within a face-matching radius while
computing a few percent of all distances. Below EXACT_UP_TO vectors everything is compared with
everything (one cell), which is exact.

Probing the cells nearest to each vector, not those nearest to its cell's centre, matters in 128
dimensions, where a vector is often far from its cell's centre: on bench/people_synthetic.py's 100k
faces the pair of a person seen twice was found 1810 times in 2000 (937 with the cells nearest to
the cell's centre), and grouping's pairwise recall went from 0.66 to 0.94 (precision 1.00), in less
time (3.9 s of CPU against 4.0)."""

from __future__ import annotations

import numpy as np

from app.core.people.compute import one_blas_thread, parallel_map

EXACT_UP_TO = 8192
CELL_SIZE = 128  # mean vectors per cell: each vector then meets ~PROBES * 128 candidates
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


def _cells(x: np.ndarray, probes: int) -> tuple[int, np.ndarray]:
    """(how many cells, the `probes` cells nearest to each vector, its own first) by a few rounds of
    k-means on a sample."""
    n = len(x)
    count = max(1, n // CELL_SIZE) if n > EXACT_UP_TO else 1
    if count == 1:
        return 1, np.zeros((n, 1), dtype=np.int64)
    rng = np.random.default_rng(SEED)
    sample = x[rng.choice(n, size=min(n, KMEANS_SAMPLE), replace=False)]
    centres = sample[rng.choice(len(sample), size=count, replace=False)].copy()
    for _ in range(KMEANS_ROUNDS):
        assigned = _nearest(sample, centres)[:, 0]
        by_cell = np.argsort(assigned, kind="stable")
        filled, starts, counts = np.unique(assigned[by_cell], return_index=True, return_counts=True)
        centres[filled] = np.add.reduceat(sample[by_cell], starts, axis=0) / counts[:, None]
    return count, _nearest(x, centres, min(probes, count))


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
        count, probes = _cells(x, PROBES)
        members = _by_cell(probes[:, 0], count)  # the vectors in each cell
        queries = [q // probes.shape[1] for q in _by_cell(probes.reshape(-1), count)]  # the vectors probing each
        search = _CellSearch(x, _squared_norms(x), members, queries, radius * radius, k)
        found = [part for part in parallel_map(search, range(count)) if len(part[0])]
    if not found:
        return empty
    i, j, d = (np.concatenate(column) for column in zip(*found, strict=True))
    i, j, d = _nearest_k(i, j, d, k)
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    _, first = np.unique(lo * n + hi, return_index=True)
    return lo[first], hi[first], d[first].astype(np.float32)


def _by_cell(cell: np.ndarray, count: int) -> list[np.ndarray]:
    """The positions in `cell` of each cell's entries."""
    order = np.argsort(cell, kind="stable")
    bounds = np.searchsorted(cell[order], np.arange(count + 1))
    return [order[bounds[c] : bounds[c + 1]] for c in range(count)]


def _nearest_k(i: np.ndarray, j: np.ndarray, d: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each i's k nearest j (from all the cells it probed)."""
    order = np.lexsort((j, d, i))
    i, j, d = i[order], j[order], d[order]
    starts = np.flatnonzero(np.r_[True, i[1:] != i[:-1]])
    rank = np.arange(len(i)) - np.repeat(starts, np.diff(np.r_[starts, len(i)]))
    keep = rank < k
    return i[keep], j[keep], d[keep]


class _CellSearch:
    """The pairs one cell gives: every vector that probes it against the cell's members, each
    keeping its k nearest within the radius."""

    def __init__(self, x: np.ndarray, norms: np.ndarray, members: list[np.ndarray], queries: list[np.ndarray],
                 radius2: float, k: int) -> None:  # fmt: skip
        self.x, self.norms, self.members, self.queries = x, norms, members, queries
        self.radius2, self.k = radius2, k

    def __call__(self, c: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x, norms, pool = self.x, self.norms, self.members[c]
        keep = min(self.k + 1, len(pool))  # + 1: a vector meets itself in its own cell
        found_i, found_j, found_d = [np.empty(0, np.int64)], [np.empty(0, np.int64)], [np.empty(0, np.float32)]
        pool_x, pool_norms = x[pool], norms[pool]
        for start in range(0, len(self.queries[c]), QUERY_BLOCK):
            queries = self.queries[c][start : start + QUERY_BLOCK]
            d2 = x[queries] @ pool_x.T  # in place from here: these blocks are the bulk of the work
            d2 *= -2.0
            d2 += pool_norms
            d2 += norms[queries, None]
            # the k-th smallest distance of each row bounds what it keeps (ties may keep a few more)
            limit = np.full((len(queries), 1), self.radius2, dtype=d2.dtype)
            if keep < len(pool):
                np.minimum(limit, np.partition(d2, keep - 1, axis=1)[:, keep - 1 : keep], out=limit)
            rows, cols = np.nonzero(d2 <= limit)
            other = queries[rows] != pool[cols]
            found_i.append(queries[rows][other])
            found_j.append(pool[cols][other])
            found_d.append(np.sqrt(np.maximum(d2[rows[other], cols[other]], 0.0)))
        return np.concatenate(found_i), np.concatenate(found_j), np.concatenate(found_d)

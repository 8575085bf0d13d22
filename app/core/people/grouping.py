"""Faces grouped into suggested people: average linkage over descriptor distances, at scale.

`group_faces(vectors, threshold)` merges groups while two of them are, on average over all their
cross pairs of faces, closer than the threshold, and returns one group label per face. The
average is taken over squared distances (the group distance is the root mean square of its pairs'
distances: for two single faces, just their distance). That makes it exact without a distance
matrix: the mean squared distance between groups A and B is |mean(A) - mean(B)|^2 + var(A) +
var(B), three numbers a group carries, so 100k faces group in seconds (bench/people_grouping_bench.py)
where the n x n matrix of plain average linkage would need 40 GB. On ../shared/corpus/people it
gives the same figures as plain average linkage (bench/people_eval.py prints both).

How: candidate pairs of groups come from a neighbour graph (each face's nearest faces within the
threshold, people/neighbours.py); two groups with no pair of faces within the threshold can never
average below it. Then, round after round, every pair of groups that are each other's nearest
(reciprocal nearest neighbours) merges when closer than the threshold. The linkage is reducible
(merging two groups never brings a third one closer than the nearer of the two), so these merges
give the result of merging the closest pair one at a time.

Threshold, measured on ../shared/corpus/people through the real pipeline (faces.py detector, the
dlib descriptor of analysis/face_descriptor.py; bench/people_eval.py): see DEFAULT_THRESHOLD.
"""

from __future__ import annotations

import numpy as np

from app.core.people.neighbours import neighbour_pairs

# Pairwise same-person precision / recall on corpus/people (47 faces found of the 56 listed; figures
# from bench/people_eval.py):
DEFAULT_THRESHOLD = 0.55
NEIGHBOURS = 24  # candidate neighbours kept per face: enough to link a person's faces into one group


def _roots(parent: np.ndarray) -> np.ndarray:
    """Every element's root in a forest given as parent pointers (pointer jumping)."""
    while True:
        grand = parent[parent]
        if np.array_equal(grand, parent):
            return parent
        parent = grand


def _labels(roots: np.ndarray) -> np.ndarray:
    """Group labels 0..g-1 numbered in order of each group's first face."""
    _, first, inverse = np.unique(roots, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[inverse.reshape(-1)]


def _check(vectors: np.ndarray, threshold: float) -> np.ndarray:
    x = np.asarray(vectors, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"face descriptors must be an n x d array, not shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("face descriptors contain NaN or infinite values")
    if not threshold > 0:
        raise ValueError(f"the grouping threshold must be positive, not {threshold}")
    return x


def group_faces(vectors: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> np.ndarray:
    """Group label of each face (n x d descriptors), 0..g-1, by average linkage (root mean square
    of the cross-pair distances below `threshold`). Deterministic: the same vectors in the same
    order give the same labels."""
    x = _check(vectors, threshold)
    n = len(x)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    i, j, _ = neighbour_pairs(x, threshold, NEIGHBOURS)
    limit = threshold * threshold
    size = np.ones(n)
    mean = x.copy()
    spread = np.zeros(n)  # mean squared distance of a group's faces to its mean
    parent = np.arange(n)
    a, b = i, j  # candidate pairs, as group ids (the id of a group is one of its faces)
    while len(a):
        diff = mean[a] - mean[b]
        linkage = np.einsum("ij,ij->i", diff, diff) + spread[a] + spread[b]
        close = linkage < limit
        a, b, linkage = a[close], b[close], linkage[close]
        if not len(a):
            break
        # each group's nearest candidate (ties to the lower pair index); reciprocal ones merge
        pairs = np.arange(len(a))
        ends, pair = np.concatenate((a, b)), np.concatenate((pairs, pairs))
        order = np.lexsort((pair, np.concatenate((linkage, linkage))))
        groups, first = np.unique(ends[order], return_index=True)
        best = np.full(n, -1, dtype=np.int64)
        best[groups] = pair[order][first]
        merge = np.flatnonzero((best[a] == pairs) & (best[b] == pairs))
        keep, gone = a[merge], b[merge]
        na, nb = size[keep], size[gone]
        total = na + nb
        gap = mean[keep] - mean[gone]
        spread[keep] = (na * spread[keep] + nb * spread[gone]) / total + na * nb / total**2 * np.einsum(
            "ij,ij->i", gap, gap
        )
        mean[keep] = (na[:, None] * mean[keep] + nb[:, None] * mean[gone]) / total[:, None]
        size[keep] = total
        parent[gone] = keep
        a, b = parent[a], parent[b]  # merged groups are one pair apart: one step reaches the group
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        distinct = lo != hi
        _, first = np.unique(lo[distinct] * n + hi[distinct], return_index=True)
        a, b = lo[distinct][first], hi[distinct][first]
    return _labels(_roots(parent))


def connected_components(vectors: np.ndarray, threshold: float) -> np.ndarray:
    """Group labels by single linkage: faces chained by distances below `threshold` share a group.
    Finds more of a person's faces than average linkage, and merges look-alikes through a chain."""
    x = _check(vectors, threshold)
    n = len(x)
    i, j, d = neighbour_pairs(x, threshold, NEIGHBOURS)
    i, j = i[d < threshold], j[d < threshold]
    label = np.arange(n)
    while len(i):
        low = np.minimum(label[i], label[j])
        changed = False
        for ends in (i, j):
            before = label[ends]
            np.minimum.at(label, ends, low)
            changed |= bool((label[ends] != before).any())
        label = _roots(label)  # label[x] <= x always, so labels are parent pointers
        if not changed:
            break
    return _labels(label)

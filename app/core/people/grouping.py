"""Faces grouped into suggested people: average linkage over descriptor distances, at scale.

`group_faces(vectors, threshold)` merges groups while two of them are, on average over all their
cross pairs of faces, closer than the threshold, and returns one group label per face. The
average is taken over squared distances (the group distance is the root mean square of its pairs'
distances; for two single faces, just their distance). That needs no distance matrix: the mean
squared distance between groups A and B is |mean(A) - mean(B)|^2 + spread(A) + spread(B), from
three numbers a group carries, where plain average linkage would need an n x n matrix (40 GB at
100k faces).

How: candidate pairs of groups come from a neighbour graph (each face's nearest faces within the
threshold, people/neighbours.py): two groups with no pair of faces within the threshold can never
average below it. Then, round after round, every two groups that are each other's nearest merge
when closer than the threshold (the linkage is reducible, so that is what merging the closest pair
one at a time does), and with them the groups whose nearest is one of the two: without that, a
large group would take one face a round, thousands of rounds. 100k faces (a few persons with
thousands of faces each) group in ~5.5 s of CPU on this machine (bench/people_grouping_bench.py).

Measured on ../shared/corpus/people through the real pipeline (faces.py VERSION 2,
face_descriptor.py; bench/people_eval.py; 53 of the 56 listed faces found, 71 faces grouped, 135
same-person pairs), pairwise same-person precision / recall:
    threshold          0.50         0.55         0.575        0.60         0.625
    ours               1.00 / 0.61  1.00 / 0.72  1.00 / 0.73  1.00 / 0.73  0.97 / 0.87
    plain average      1.00 / 0.61  1.00 / 0.72  1.00 / 0.73  1.00 / 0.73  0.97 / 0.87
    single linkage     1.00 / 0.64  1.00 / 0.73  0.81 / 0.87  0.60 / 0.87  0.42 / 1.00
DEFAULT_THRESHOLD is 0.625, the only one of these that meets precision >= 0.95 and recall >= 0.80
(one wrong merge). With faces.py VERSION 1 (52 faces found) 0.575 gave 1.00 / 0.83: the margin is
thin on 56 faces, re-measure when the detector or descriptor changes.
"""

from __future__ import annotations

import numpy as np

from app.core.people.compute import one_blas_thread
from app.core.people.neighbours import neighbour_pairs

DEFAULT_THRESHOLD = 0.625  # chosen on corpus/people: see the figures above
NEIGHBOURS = 12  # candidate neighbours kept per face: enough to link a person's faces into one group


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


def _squared_gaps(mean: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|mean[a] - mean[b]|^2 for each pair, in chunks (a million pairs would gather a GB at once);
    in float32, whose rows gather much faster."""
    m = mean.astype(np.float32)
    out = np.empty(len(a))
    for start in range(0, len(a), 1 << 17):
        diff = m[a[start : start + (1 << 17)]] - m[b[start : start + (1 << 17)]]
        out[start : start + len(diff)] = np.einsum("ij,ij->i", diff, diff)
    return out


def _spread(size: np.ndarray, total: np.ndarray, squares: np.ndarray) -> np.ndarray:
    """Mean squared distance of a group's faces to their mean, from its count, sum and sum of squares."""
    return np.maximum(squares / size - np.einsum("ij,ij->i", total, total) / size**2, 0.0)


def _merge_targets(a: np.ndarray, b: np.ndarray, linkage: np.ndarray, stats: tuple[np.ndarray, ...],
                   limit: float) -> np.ndarray:  # fmt: skip
    """The group each group merges into this round (itself when it waits). Two groups that are each
    other's nearest merge; so does a group whose nearest is one of such a pair, if it is within the
    threshold of the merged pair too. Without that a large group would take one face a round
    (thousands of rounds); merging those faces one at a time would mostly give the same group, as
    each stays nearest to the growing group."""
    size, total, squares = stats
    n = len(size)
    pairs = np.arange(len(a))
    ends, other = np.concatenate((a, b)), np.concatenate((b, a))
    order = np.lexsort((np.concatenate((pairs, pairs)), np.concatenate((linkage, linkage))))
    groups, first = np.unique(ends[order], return_index=True)
    nearest = np.arange(n)
    nearest[groups] = other[order][first]
    reciprocal = nearest[nearest] == np.arange(n)
    root = np.where(reciprocal, np.minimum(np.arange(n), nearest), np.arange(n))
    joiners = np.flatnonzero(~reciprocal & reciprocal[nearest])
    p, q = nearest[joiners], nearest[nearest[joiners]]  # the pair each would join
    pair_size, pair_total, pair_squares = size[p] + size[q], total[p] + total[q], squares[p] + squares[q]
    gap = pair_total / pair_size[:, None] - total[joiners] / size[joiners, None]
    to_pair = (np.einsum("ij,ij->i", gap, gap) + _spread(pair_size, pair_total, pair_squares)
               + _spread(size[joiners], total[joiners], squares[joiners]))  # fmt: skip
    accepted = joiners[to_pair < limit]
    root[accepted] = root[nearest[accepted]]
    return root


def group_faces(vectors: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> np.ndarray:
    """Group label of each face (n x d descriptors), 0..g-1, by average linkage (root mean square
    of the cross-pair distances below `threshold`). Deterministic: the same vectors in the same
    order give the same labels."""
    x = _check(vectors, threshold)
    if len(x) == 0:
        return np.empty(0, dtype=np.int64)
    with one_blas_thread():
        return _average_linkage(x, threshold)


def _average_linkage(x: np.ndarray, threshold: float) -> np.ndarray:
    n = len(x)
    i, j, _ = neighbour_pairs(x, threshold, NEIGHBOURS)
    limit = threshold * threshold
    size = np.ones(n)
    total = x.copy()  # sum of a group's vectors
    squares = np.einsum("ij,ij->i", x, x)  # sum of its vectors' squared norms
    parent = np.arange(n)
    a, b = i, j  # candidate pairs, as group ids (the id of a group is one of its faces)
    while len(a):
        # mean squared cross distance = |mean(A) - mean(B)|^2 + spread(A) + spread(B)
        spread = _spread(size, total, squares)
        linkage = _squared_gaps(total / size[:, None], a, b) + spread[a] + spread[b]
        close = linkage < limit
        a, b, linkage = a[close], b[close], linkage[close]
        if not len(a):
            break
        root = _merge_targets(a, b, linkage, (size, total, squares), limit)
        merging = np.flatnonzero(root != np.arange(n))
        targets = root[merging]
        np.add.at(size, targets, size[merging])
        np.add.at(total, targets, total[merging])
        np.add.at(squares, targets, squares[merging])
        parent[merging] = targets
        a, b = root[a], root[b]
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

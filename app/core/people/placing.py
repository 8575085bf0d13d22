"""Where unnamed faces go: into suggested people (grouping.group_faces), or, one new face at a time,
next to the person or group they are closest to.

Distances between a face and a group of faces are people.grouping's average linkage: the root mean
square of the face's distances to the group's faces, which is sqrt(|x - mean|^2 + spread) for a
group that keeps its mean and the mean squared distance of its faces to it (`spread`). Placing a
face is then one matrix-vector product over the groups, not over their faces (~1.5 ms against
~49k persons, groups and single faces from 100k faces, bench/people_bench.py).

The rules, in order (`Placer.place`):
- a face closer than the threshold to a named person (to the person's confirmed faces) becomes a
  *suggestion* for that person, never a confirmed face: only the user confirms;
- else it joins the closest unnamed group, or forms one with the closest face that is in none;
- a face is never placed with a person or group the user said it is not (FaceRejection);
- named persons are never touched: merging two is the user's decision alone.

A full regroup (`plan_regroup`) runs group_faces over every face that is not confirmed: the first
analysis of a library, a changed threshold, or many new faces at once; groups keep their ids where
most of their faces stay together, so an id seen in `tessera people` still means the same group.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from app.core.catalog.models import CONFIRMED, SUGGESTED, UNNAMED
from app.core.catalog.people import STATE_CODES, FaceVectorSet
from app.core.people.compute import one_blas_thread
from app.core.people.grouping import group_faces

PLACED, SUGGESTED_CODE, CONFIRMED_CODE = STATE_CODES[UNNAMED], STATE_CODES[SUGGESTED], STATE_CODES[CONFIRMED]
_CAPACITY = 1024


@dataclass(frozen=True)
class Assignment:
    """Where a face goes: `person` is a person or group id, a negative number for a group to create
    (the same number for every face of it), or None for no group."""

    face: int
    person: int | None
    state: str  # UNNAMED | SUGGESTED
    distance: float | None = None


class _Clusters:
    """Persons, groups and single faces with their mean and spread: what placing compares a face with."""

    def __init__(self, dim: int) -> None:
        self.owner: list[int] = []  # person or group id, 0 for a face in no group
        self.named: list[bool] = []
        self.face: list[int] = []  # the face of a single-face cluster, else 0
        self.index: dict[int, int] = {}  # person or group id -> cluster
        self.size = np.zeros(_CAPACITY)
        # float32: one placement reads the whole matrix (100k clusters: 51 MB in float32, twice that in
        # float64); the distances move by ~1e-6, far below anything that decides
        self.mean = np.zeros((_CAPACITY, dim), np.float32)
        self.norm2 = np.zeros(_CAPACITY)  # |mean|^2
        self.spread = np.zeros(_CAPACITY)

    def __len__(self) -> int:
        return len(self.owner)

    def add(self, owner: int, named: bool, vectors: np.ndarray, face: int = 0) -> int:
        """One cluster of these faces; returns its number."""
        self.extend(np.array([owner]), np.array([named]), np.array([face]), *_stats(vectors, np.zeros(len(vectors))))
        return len(self.owner) - 1

    def extend(self, owner: np.ndarray, named: np.ndarray, face: np.ndarray, size: np.ndarray, mean: np.ndarray,
               spread: np.ndarray) -> None:  # fmt: skip
        """Clusters from their owners, names, single faces (else 0) and statistics (see _stats)."""
        n, m = len(self.owner), len(owner)
        if n + m > len(self.size):  # grow by doubling at least: appending stays O(1) on average
            more = max(n + m, 2 * len(self.size)) - len(self.size)
            self.size, self.norm2, self.spread = (
                np.concatenate((a, np.zeros(more))) for a in (self.size, self.norm2, self.spread)
            )
            self.mean = np.concatenate((self.mean, np.zeros((more, self.mean.shape[1]), self.mean.dtype)))
        self.owner += owner.tolist()
        self.named += named.tolist()
        self.face += face.tolist()
        self.index.update((o, n + k) for k, o in enumerate(owner.tolist()) if o)
        self.size[n : n + m], self.mean[n : n + m], self.spread[n : n + m] = size, mean, spread
        self.norm2[n : n + m] = np.einsum("ij,ij->i", mean, mean)

    def join(self, c: int, x: np.ndarray) -> None:
        """Add one face to cluster c: its mean and spread follow exactly."""
        n = self.size[c]
        mean = self.mean[c].astype(np.float64)
        gap = x - mean
        self.spread[c] = (n * self.spread[c]) / (n + 1) + n / (n + 1) ** 2 * float(gap @ gap)
        mean += gap / (n + 1)
        self.mean[c], self.norm2[c], self.size[c] = mean, float(mean @ mean), n + 1
        self.face[c] = 0

    def rename(self, c: int, owner: int) -> None:
        self.owner[c] = owner
        self.index[owner] = c

    def linkage2(self, x: np.ndarray) -> np.ndarray:
        """Squared average linkage from x to every cluster."""
        n = len(self.owner)
        return np.maximum(
            float(x @ x) - 2.0 * (self.mean[:n] @ x.astype(np.float32)) + self.norm2[:n] + self.spread[:n], 0.0
        )


def _stats(vectors: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(size, mean, spread) of the faces of each label, labels in increasing order (one sort and two
    sums over all of them: 100k faces in ~0.1 s, where a cluster at a time took ~1 s)."""
    if not len(labels):
        return np.zeros(0), np.zeros((0, vectors.shape[1])), np.zeros(0)
    order = np.argsort(labels, kind="stable")
    v = vectors[order].astype(np.float64)
    _, starts, size = np.unique(labels[order], return_index=True, return_counts=True)
    mean = np.add.reduceat(v, starts, axis=0) / size[:, None]
    squares = np.add.reduceat(np.einsum("ij,ij->i", v, v), starts) / size
    return size.astype(np.float64), mean, np.maximum(squares - np.einsum("ij,ij->i", mean, mean), 0.0)


class Placer:
    """The library's persons, groups and single faces, ready to place new faces one at a time."""

    def __init__(self, data: FaceVectorSet, threshold: float, rejected: set[tuple[int, int]]) -> None:
        self.limit = threshold * threshold
        self.rejected_by_face: dict[int, set[int]] = {}
        for face, person in rejected:
            self.rejected_by_face.setdefault(face, set()).add(person)
        self.clusters = _Clusters(data.vectors.shape[1])
        self._next_group = -1
        named = np.isin(data.person, list(data.named))
        unnamed = data.state == PLACED
        for rows in ((data.state == CONFIRMED_CODE) & (data.person > 0), unnamed & (data.person > 0) & ~named):
            owners = np.unique(data.person[rows])
            stats = _stats(data.vectors[rows], data.person[rows])
            self.clusters.extend(owners, np.isin(owners, list(data.named)), np.zeros(len(owners), np.int64), *stats)
        alone = np.flatnonzero(unnamed & (data.person == 0))
        ones = np.ones(len(alone))
        self.clusters.extend(np.zeros(len(alone), np.int64), ones == 0, data.ids[alone], ones,
                             data.vectors[alone].astype(np.float64), ones * 0.0)  # fmt: skip

    def adopt(self, groups: dict[int, int]) -> None:
        """The groups this placer created (negative numbers) got these ids in the catalog."""
        for number, group in groups.items():
            c = self.clusters.index.pop(number, None)
            if c is not None:
                self.clusters.rename(c, group)

    def place(self, face: int, x: np.ndarray) -> list[Assignment]:
        """Where the face goes (and, when it forms a group with a face in none, where that one goes)."""
        c = self.clusters
        x = x.astype(np.float64)
        with one_blas_thread():  # a 100k x 128 product: one thread beats OpenBLAS's hand-offs
            link = c.linkage2(x)
        for person in self.rejected_by_face.get(face, ()):
            if person in c.index:
                link[c.index[person]] = np.inf
        best = int(np.argmin(link)) if len(link) else -1
        if best < 0 or link[best] >= self.limit:
            c.add(0, False, x[None, :], face)
            return [Assignment(face, None, UNNAMED)]
        owner, distance = c.owner[best], float(np.sqrt(link[best]))
        if c.named[best]:
            return [Assignment(face, owner, SUGGESTED, round(distance, 4))]
        if owner == 0:  # a face in no group: the two start one
            owner = self._next_group
            c.rename(best, owner)
            self._next_group -= 1
            mate = c.face[best]
            c.join(best, x)
            return [Assignment(mate, owner, UNNAMED), Assignment(face, owner, UNNAMED)]
        c.join(best, x)
        return [Assignment(face, owner, UNNAMED)]


def suggestions(
    data: FaceVectorSet,
    rows: np.ndarray,
    threshold: float,
    rejected: set[tuple[int, int]],
    only: set[int] | None = None,
) -> dict[int, tuple[int, float]]:
    """row -> (person, distance) for the faces among `rows` closer than the threshold to a named
    person (to one of `only`, when given)."""
    candidates = data.named if only is None else data.named & only
    theirs = (data.state == CONFIRMED_CODE) & np.isin(data.person, list(candidates))
    if not theirs.any() or not len(rows):
        return {}
    ids = np.unique(data.person[theirs]).tolist()
    _, means, spread = _stats(data.vectors[theirs], data.person[theirs])
    x = data.vectors[rows]  # float32 products: 100k faces in ~0.1 s; distances move by ~1e-6
    link = np.einsum("ij,ij->i", x, x)[:, None] - 2.0 * (x @ means.T.astype(np.float32))
    link += (np.einsum("ij,ij->i", means, means) + spread)[None, :]
    faces = data.ids[rows]  # increasing, as rows are
    column_of = {p: k for k, p in enumerate(ids)}
    for face, person in rejected:  # never to a person the face was said not to be
        at = int(np.searchsorted(faces, face))
        if at < len(faces) and faces[at] == face and person in column_of:
            link[at, column_of[person]] = np.inf
    best = np.argmin(link, axis=1)
    value = link[np.arange(len(rows)), best]
    return {int(rows[i]): (ids[best[i]], float(np.sqrt(max(value[i], 0.0))))
            for i in np.flatnonzero(value < threshold * threshold)}  # fmt: skip


def plan_regroup(data: FaceVectorSet, threshold: float, rejected: set[tuple[int, int]]) -> list[Assignment]:
    """Every face nobody confirmed, placed afresh: suggestions for the named persons first, then
    group_faces over the rest. Groups keep the id of the old group most of their faces were in."""
    free = np.flatnonzero(data.state != CONFIRMED_CODE)
    suggested = suggestions(data, free, threshold, rejected)
    out = [Assignment(int(data.ids[r]), p, SUGGESTED, round(d, 4)) for r, (p, d) in suggested.items()]
    rest = free[~np.isin(free, list(suggested))]
    if not len(rest):
        return out
    labels = group_faces(data.vectors[rest], threshold)
    old_group = np.where(
        (data.state[rest] == PLACED) & ~np.isin(data.person[rest], list(data.named)), data.person[rest], 0
    )
    names = _group_ids(labels, old_group)
    for row, label in zip(rest, labels, strict=True):
        face, group = int(data.ids[row]), names.get(int(label))
        if group is not None and (face, group) in rejected:
            group = None  # the user took this face out of that group
        out.append(Assignment(face, group, UNNAMED))
    return out


def _group_ids(labels: np.ndarray, old_group: np.ndarray) -> dict[int, int]:
    """label -> group id for the labels with two faces or more: the old group that most of its faces
    were in (each old id once, largest overlaps first), else a new one (negative numbers)."""
    sizes = np.bincount(labels)
    overlap = Counter((int(lab), int(g)) for lab, g in zip(labels, old_group, strict=True) if g > 0)
    names: dict[int, int] = {}
    used: set[int] = set()
    for (label, group), _ in sorted(overlap.items(), key=lambda kv: (-kv[1], kv[0])):
        if sizes[label] >= 2 and label not in names and group not in used:
            names[label] = group
            used.add(group)
    fresh = -1
    for label in np.flatnonzero(sizes >= 2):
        if int(label) not in names:
            names[int(label)] = fresh
            fresh -= 1
    return names

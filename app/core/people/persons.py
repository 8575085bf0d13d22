"""People as a feature: what the CLI and the GUI call. The user's decisions (name, merge, confirm,
reject, name one face) are stored through the library's single writer, then the faces they free or
the persons they create are placed again (`update_people`): suggestions for named persons, groups
for the rest. Qt-free; the work is numpy over the descriptors of every face (a decision at 100k
faces: ~0.35 s of CPU, most of it loading them). New faces alone (after an analysis) are placed with
the placer kept from the run before while the catalog's people generation says nothing changed.
Decisions are noted in the change log (other workstations' views follow) and, where the library
writes sidecars as the user edits, reach the photos' XMP at once.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from app.core.catalog import people as catalog
from app.core.people.compute import one_blas_thread
from app.core.people.grouping import DEFAULT_THRESHOLD
from app.core.people.placing import PLACED, Assignment, Placer, plan_regroup, suggestions
from app.core.xmp.export import ExportReport, auto_write

THRESHOLD_SETTING = "people_threshold"
# A full regroup beats placing faces one by one when the new faces are this share of the faces not
# confirmed yet (the first analysis of a library, a large import): group_faces sees them all at once.
REGROUP_SHARE = 0.2
T = TypeVar("T")


@dataclass
class PlacementReport:
    placed: int = 0  # faces whose person, group or state changed
    regrouped: bool = False
    seconds: float = 0.0

    def summary(self) -> str:
        how = "regrouped" if self.regrouped else "placed"
        return f"{self.placed} face(s) {how} in {self.seconds:.1f} s"


def threshold(lib: Any) -> float:
    """The library's grouping distance (people.grouping.DEFAULT_THRESHOLD unless changed)."""
    return float(lib.setting(THRESHOLD_SETTING, None) or DEFAULT_THRESHOLD)


def set_threshold(lib: Any, value: float) -> PlacementReport:
    """A new grouping distance: unnamed faces are grouped again and suggestions recomputed; names
    and confirmed faces stay as they are."""
    if not 0.1 <= value <= 1.5:
        raise ValueError(f"the grouping distance is between 0.1 and 1.5 (default {DEFAULT_THRESHOLD}), not {value}")
    lib.set_setting(THRESHOLD_SETTING, repr(float(value)))
    return update_people(lib, regroup=True)


def _changed(data: catalog.FaceVectorSet, plan: Sequence[Assignment]) -> list[catalog.Placement]:
    """Only the faces whose place differs from what the catalog holds (a face `data` does not hold,
    the mate a new face forms a group with, always counts)."""
    row_of = {int(f): i for i, f in enumerate(data.ids)}
    out = []
    for a in plan:
        row = row_of.get(a.face)
        now = None if row is None else (int(data.person[row]) or None, int(data.state[row]))
        if now != (a.person, catalog.STATE_CODES[a.state]) or a.distance is not None:
            out.append((a.face, a.person, a.state, a.distance))
    return out


@dataclass
class _Index:
    """A library's placer kept between runs: valid while the catalog's people generation is `token`
    (any change of who a face is, here or in another process, gives a new token)."""

    token: str | None
    placer: Placer


_indexes: weakref.WeakKeyDictionary[Any, _Index] = weakref.WeakKeyDictionary()
_placing = threading.Lock()  # one placing run at a time: the GUI's decisions and an analysis may overlap


def update_people(lib: Any, *, regroup: bool = False, suggest_for: Collection[int] = ()) -> PlacementReport:
    """Place what needs placing: new faces (after an analysis) and faces the user took out of a
    person; `suggest_for` names persons whose faces just changed (named, merged, confirmed): the
    unnamed faces now close to them become their suggestions. `regroup` groups every unconfirmed
    face afresh. New faces alone are placed with the placer kept from the last run when nothing
    changed since (no catalog-wide load: milliseconds a face)."""
    start = time.monotonic()
    with _placing, one_blas_thread():
        index = _indexes.pop(lib, None)
        if index is not None and (regroup or suggest_for or index.token != catalog.generation()):
            index = None
        if index is not None:
            data = catalog.load_vectors(unplaced_only=True)
            plan = _place_all(index.placer, data)
            full = False
        else:
            data, plan, full, index = _plan(lib, regroup, set(suggest_for))
        changes = _changed(data, plan)
        placed = 0
        if changes:
            expected = index.token if index is not None else None
            placed, groups, token, kept = lib.writer.call(lambda: _store(changes, expected))
            if index is not None and kept and placed == len(changes):
                index.placer.adopt(groups)
                index.token = token
            else:
                index = None  # the catalog moved under us: the next run builds afresh
        if index is not None:
            _indexes[lib] = index
    return PlacementReport(placed, full, time.monotonic() - start)


def _plan(
    lib: Any, regroup: bool, suggest_for: set[int]
) -> tuple[catalog.FaceVectorSet, list[Assignment], bool, _Index | None]:
    """Everything loaded: a full regroup, or suggestions and the new faces placed one by one (then
    the placer is worth keeping)."""
    token = catalog.generation()
    data = catalog.load_vectors()
    limit = threshold(lib)
    rejected = catalog.rejected_pairs()
    unplaced = int((data.state == 0).sum())
    free = int((data.state != catalog.STATE_CODES[catalog.CONFIRMED]).sum())
    if regroup or (unplaced > 0 and unplaced >= REGROUP_SHARE * free):
        return data, plan_regroup(data, limit, rejected), True, None
    found = _new_suggestions(data, limit, rejected, suggest_for)
    if not unplaced:  # a decision that freed no face: no placer to build (the next run builds one)
        return data, found, False, None
    placer = Placer(data, limit, rejected)
    return data, found + _place_all(placer, data, np.flatnonzero(data.state == 0)), False, _Index(token, placer)


def _place_all(placer: Placer, data: catalog.FaceVectorSet, rows: np.ndarray | None = None) -> list[Assignment]:
    out: list[Assignment] = []
    for row in range(len(data.ids)) if rows is None else rows:
        out += placer.place(int(data.ids[row]), data.vectors[row])
    return out


def _store(placements: list[catalog.Placement], expected: str | None) -> tuple[int, dict[int, int], str, bool]:
    """Writer thread: the placements, and a new people generation."""
    moved, groups = catalog.apply_placements(placements)
    token, kept = catalog.bump_generation(expected)
    return moved, groups, token, kept


def _new_suggestions(
    data: catalog.FaceVectorSet, limit: float, rejected: set[tuple[int, int]], people: set[int]
) -> list[Assignment]:
    """Unnamed faces (placed or not) close to one of `people` become its suggestions; they are
    then not placed again (their state changes here, so the placer leaves them out)."""
    if not people:
        return []
    rows = np.flatnonzero(data.state <= PLACED)
    found = suggestions(data, rows, limit, rejected, people)
    for row in found:
        data.state[row] = catalog.STATE_CODES[catalog.SUGGESTED]
    return [Assignment(int(data.ids[r]), p, catalog.SUGGESTED, round(d, 4)) for r, (p, d) in found.items()]


def placer(lib: Any) -> Placer:
    """The library's faces ready for placing new ones one at a time (the benchmark's ~ms a face)."""
    return Placer(catalog.load_vectors(), threshold(lib), catalog.rejected_pairs())


# -- the user's decisions ------------------------------------------------------------------------------
def _decide(
    lib: Any,
    op: Callable[[], T],
    involved: tuple[Collection[int], Collection[int]],
    changed: Callable[[T], Collection[int]] = lambda _: (),
    sidecars: ExportReport | None = None,
) -> T:
    """Store the decision (with a change-log note of the photos of the `involved` faces and
    persons, so other workstations' views follow), then place the faces it freed and suggest to
    the persons it `changed`; then, where the library writes sidecars as the user edits, those
    photos' sidecars get the names (what happened is added to `sidecars`)."""
    faces, people = involved

    def decide() -> tuple[T, list[int]]:
        photos = catalog.note_photos_of(faces, people)
        result = op()
        catalog.bump_generation()
        return result, photos

    result, photos = lib.writer.call(decide)
    update_people(lib, suggest_for=changed(result))
    report = auto_write(lib, photos)
    if report is not None and sidecars is not None:
        sidecars.written += report.written
        sidecars.failed += report.failed
    return result


def _person(pid: int) -> list[int]:
    return [pid]


def name(lib: Any, person_id: int, new_name: str, *, sidecars: ExportReport | None = None) -> int:
    """Name a group (or rename a person); returns the named person's id."""
    op = lambda: catalog.name_person(person_id, new_name)  # noqa: E731
    return _decide(lib, op, ((), [person_id]), _person, sidecars)


def merge(lib: Any, person_ids: Sequence[int], *, sidecars: ExportReport | None = None) -> int:
    if len(person_ids) < 2:
        raise ValueError("name two persons or groups to merge")
    op = lambda: catalog.merge_persons(person_ids[0], person_ids[1:])  # noqa: E731
    return _decide(lib, op, ((), person_ids), _person, sidecars)


def confirm(lib: Any, person_id: int, face_ids: Sequence[int] | None = None, *,
            sidecars: ExportReport | None = None) -> int:  # fmt: skip
    involved = ((), [person_id]) if face_ids is None else (face_ids, ())
    op = lambda: catalog.confirm_faces(person_id, face_ids)  # noqa: E731
    return _decide(lib, op, involved, lambda _: [person_id], sidecars)


def reject(lib: Any, person_id: int, face_ids: Sequence[int], *, sidecars: ExportReport | None = None) -> int:
    return _decide(lib, lambda: catalog.reject_faces(person_id, face_ids), (face_ids, ()), sidecars=sidecars)


def name_faces(lib: Any, face_ids: Sequence[int], new_name: str, *, sidecars: ExportReport | None = None) -> int:
    """Say who these faces are (confirmed); returns the person's id."""
    if not face_ids:
        raise ValueError("no face to name")
    op = lambda: [catalog.assign_face(f, new_name) for f in face_ids][-1]  # noqa: E731
    return _decide(lib, op, (face_ids, ()), _person, sidecars)


def forget(lib: Any, person_id: int, *, sidecars: ExportReport | None = None) -> int:
    return _decide(lib, lambda: catalog.delete_person(person_id), ((), [person_id]), sidecars=sidecars)

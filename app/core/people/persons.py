"""People as a feature: what the CLI and the GUI call. The user's decisions (name, merge, confirm,
reject, name one face) are stored through the library's single writer, then the faces they free or
the persons they create are placed again (`update_people`): suggestions for named persons, groups
for the rest. Qt-free; the work is numpy over the descriptors of every face (100k faces: ~0.5 s).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from app.core.catalog import people as catalog
from app.core.people.grouping import DEFAULT_THRESHOLD
from app.core.people.placing import PLACED, Assignment, Placer, plan_incremental, plan_regroup, suggestions

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
    """Only the faces whose place differs from what the catalog holds."""
    row_of = {int(f): i for i, f in enumerate(data.ids)}
    out = []
    for a in plan:
        row = row_of[a.face]
        now = (int(data.person[row]) or None, int(data.state[row]))
        if now != (a.person, catalog.STATE_CODES[a.state]) or a.distance is not None:
            out.append((a.face, a.person, a.state, a.distance))
    return out


def update_people(lib: Any, *, regroup: bool = False, suggest_for: Collection[int] = ()) -> PlacementReport:
    """Place what needs placing: new faces (after an analysis) and faces the user took out of a
    person; `suggest_for` names persons whose faces just changed (named, merged, confirmed): the
    unnamed faces now close to them become their suggestions. `regroup` groups every unconfirmed
    face afresh."""
    start = time.monotonic()
    data = catalog.load_vectors()
    limit = threshold(lib)
    rejected = catalog.rejected_pairs()
    unplaced = int((data.state == 0).sum())
    free = int((data.state != catalog.STATE_CODES[catalog.CONFIRMED]).sum())
    full = regroup or (unplaced > 0 and unplaced >= REGROUP_SHARE * free)
    if full:
        plan = plan_regroup(data, limit, rejected)
    else:
        plan = _new_suggestions(data, limit, rejected, set(suggest_for)) + plan_incremental(data, limit, rejected)
    changes = _changed(data, plan)
    placed = lib.writer.call(lambda: catalog.apply_placements(changes)) if changes else 0
    return PlacementReport(placed, full, time.monotonic() - start)


def _new_suggestions(
    data: catalog.FaceVectorSet, limit: float, rejected: set[tuple[int, int]], people: set[int]
) -> list[Assignment]:
    """Unnamed faces (placed or not) close to one of `people` become its suggestions; they are
    then not placed again (their state changes here, so plan_incremental skips them)."""
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
def _decide(lib: Any, op: Callable[[], T], changed: Callable[[T], Collection[int]] = lambda _: ()) -> T:
    """Store the decision, then place the faces it freed and suggest to the persons it `changed`."""
    result = lib.writer.call(op)
    update_people(lib, suggest_for=changed(result))
    return result


def _person(pid: int) -> list[int]:
    return [pid]


def name(lib: Any, person_id: int, new_name: str) -> int:
    """Name a group (or rename a person); returns the named person's id."""
    return _decide(lib, lambda: catalog.name_person(person_id, new_name), _person)


def merge(lib: Any, person_ids: Sequence[int]) -> int:
    if len(person_ids) < 2:
        raise ValueError("name two persons or groups to merge")
    return _decide(lib, lambda: catalog.merge_persons(person_ids[0], person_ids[1:]), _person)


def confirm(lib: Any, person_id: int, face_ids: Sequence[int] | None = None) -> int:
    return _decide(lib, lambda: catalog.confirm_faces(person_id, face_ids), lambda _: [person_id])


def reject(lib: Any, person_id: int, face_ids: Sequence[int]) -> int:
    return _decide(lib, lambda: catalog.reject_faces(person_id, face_ids))


def name_faces(lib: Any, face_ids: Sequence[int], new_name: str) -> int:
    """Say who these faces are (confirmed); returns the person's id."""
    if not face_ids:
        raise ValueError("no face to name")
    return _decide(lib, lambda: [catalog.assign_face(f, new_name) for f in face_ids][-1], _person)


def forget(lib: Any, person_id: int) -> int:
    return _decide(lib, lambda: catalog.delete_person(person_id))

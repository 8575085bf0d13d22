"""Placing new faces with the placer kept between runs (persons.update_people) gives what a placer
built afresh gives, on both catalog engines; a decision, here or elsewhere, makes the next run build
afresh. Synthetic descriptors (bench/people_synthetic.py) in a real catalog: who is who is known."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app.core.catalog import people as catalog
from app.core.catalog.models import Face, Person
from app.core.library import Library
from app.core.people import persons
from bench.people_bench import fill
from bench.people_synthetic import synthetic

OLD, NEW = 1500, 40
ROOT = Path(__file__).resolve().parents[2]


def _partition() -> set[frozenset[tuple[int, str | None]]]:
    """Who is with whom: the faces of each person or group (with their states), whatever the ids."""
    by_person: dict[int, set[tuple[int, str | None]]] = {}
    for fid, pid, state in Face.select(Face.id, Face.person, Face.person_state).tuples():
        by_person.setdefault(pid or -fid, set()).add((fid, state))
    return {frozenset(faces) for faces in by_person.values()}


def _restore(places: list[tuple[int, int | None, str | None, float | None]]) -> None:
    for fid, pid, state, distance in places:
        Face.update(person=pid, person_state=state, suggest_distance=distance).where(Face.id == fid).execute()
    catalog.drop_empty_groups()


def test_the_kept_placer_places_as_a_fresh_one_would(tmp_path: Path, catalog_url: str | None) -> None:
    vectors, _ = synthetic(OLD + NEW, np.random.default_rng(5))
    with Library.open(tmp_path / "lib") as lib:
        fill(lib, vectors[:OLD])
        persons.update_people(lib, regroup=True)
        groups = [s for s in catalog.person_summaries() if s.name is None]
        for i, g in enumerate(groups[:5]):
            persons.name(lib, g.id, f"Person {i}")
        before = list(Face.select(Face.id, Face.person, Face.person_state, Face.suggest_distance).tuples())
        kept_from = None
        for k in range(NEW):  # an analysis storing one face at a time, each placed at once
            fill(lib, vectors[OLD + k : OLD + k + 1], OLD + k)
            report = persons.update_people(lib)
            assert report.placed >= 1 and not report.regrouped
            kept_from = kept_from or persons._indexes[lib]  # the first run builds it, the others reuse it
            assert persons._indexes[lib] is kept_from
        kept = _partition()
        assert catalog.unplaced_count() == 0
        suggested = sum(1 for fid, state in set().union(*kept) if fid > OLD and state == "suggested")
        grouped = sum(1 for faces in kept if len(faces) > 1 and any(fid > OLD for fid, _ in faces))
        assert suggested > 0 and grouped > 0  # the new faces went to named persons and to groups

        lib.writer.call(lambda: _restore(before))  # the same new faces, placed by a placer built now
        persons._indexes.pop(lib)
        persons.update_people(lib)
        assert _partition() == kept


def test_a_decision_elsewhere_makes_the_next_run_build_afresh(tmp_path: Path, catalog_url: str | None) -> None:
    vectors, _ = synthetic(OLD + 1, np.random.default_rng(6))
    with Library.open(tmp_path / "lib") as lib:
        fill(lib, vectors[: OLD - 1])
        persons.update_people(lib, regroup=True)
        fill(lib, vectors[OLD - 1 : OLD], OLD - 1)  # one face more: placed, and the placer kept
        persons.update_people(lib)
        index = persons._indexes[lib]
        group = next(s for s in catalog.person_summaries() if s.name is None)
        # another process names a group: the catalog's people generation moves on
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TESSERA_WORKSTATION": "other"}
        naming = [sys.executable, "-m", "app", "--library", str(tmp_path / "lib"), "people", "name", str(group.id)]
        done = subprocess.run([*naming, "Elsewhere"], cwd=ROOT, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        fill(lib, vectors[OLD:], OLD)
        persons.update_people(lib)
        assert persons._indexes[lib] is not index  # built afresh: it knows the name given elsewhere
        assert persons._indexes[lib].placer.clusters.named[persons._indexes[lib].placer.clusters.index[group.id]]
        assert Person.get_by_id(group.id).name == "Elsewhere"

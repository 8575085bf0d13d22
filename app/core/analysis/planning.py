"""Which photos need which stages: the resume logic. A stage is finished for a photo when the catalog
holds a state row for it at the stage's current version (done, or failed: re-running a failed stage at
the same version would fail again, so only --force retries it)."""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Iterable, Sequence
from functools import reduce
from pathlib import Path

from peewee import JOIN, fn

from app.core.analysis.stages import stage_versions
from app.core.catalog.models import DETECTED, OK, Face, FaceVector, Photo, StageState
from app.core.catalog.roots import local_path
from app.core.records import STAGES, KnownFile, Task

IN_LIST_MAX = 500  # more ids than this are filtered in Python: an IN list of 100k would not bind


def validate_stages(stages: Iterable[str] | None) -> tuple[str, ...]:
    if stages is None:
        return STAGES
    chosen = tuple(dict.fromkeys(stages))
    unknown = [s for s in chosen if s not in STAGES]
    if unknown:
        raise ValueError(f"unknown stage(s) {', '.join(unknown)}; choose from {', '.join(STAGES)}")
    return tuple(s for s in STAGES if s in chosen)  # keep run order (tags after faces)


def pending_tasks(
    thumbs_dir: Path,
    stages: Sequence[str] = STAGES,
    *,
    force: bool = False,
    photo_ids: Sequence[int] | None = None,
) -> list[Task]:
    versions = stage_versions()
    query = Photo.select(Photo.id, Photo.path, Photo.size, Photo.mtime_ns, Photo.sha256).where(Photo.status == OK)
    states = StageState.select(StageState.photo, StageState.stage, StageState.version)
    wanted = None if photo_ids is None else set(photo_ids)
    if wanted is not None and len(wanted) <= IN_LIST_MAX:  # a claim's few photos: let the index find them
        query, states = query.where(Photo.id.in_(list(wanted))), states.where(StageState.photo.in_(list(wanted)))
    finished: dict[int, set[str]] = defaultdict(set)
    if not force:
        for pid, stage, version in states.tuples():
            if versions.get(stage) == version:
                finished[pid].add(stage)
    small = wanted if wanted is not None and len(wanted) <= IN_LIST_MAX else None
    undescribed = _photos_with_undescribed_faces(small) if "descriptors" in stages else set()  # people
    tasks = []
    for pid, path, size, mtime_ns, sha256 in query.order_by(Photo.id).tuples():
        if wanted is not None and pid not in wanted:
            continue
        todo = tuple(s for s in stages if s not in finished[pid])
        todo = _descriptor_stages(todo, stages, pid in undescribed)  # people
        if todo:
            # metadata read at import is not read again: that would put the file's rating, label and
            # title back over the user's edits made since (on another workstation, perhaps)
            again = "metadata" not in finished[pid]
            known = KnownFile(size, mtime_ns, sha256) if sha256 else None
            tasks.append(
                Task(local_path(path), todo, again, str(thumbs_dir), photo_id=pid, known=known, defer_slow=True)
            )
    _add_known_faces(tasks)  # people
    return tasks


def count_unfinished() -> int:
    """How many photos still lack a stage at its current version (what a resume would analyze), in
    one query: the GUI asks on start and after each import."""
    versions = stage_versions()
    current = reduce(operator.or_, ((StageState.stage == s) & (StageState.version == versions[s]) for s in STAGES))
    complete = (
        StageState.select(StageState.photo)
        .where(current)
        .group_by(StageState.photo)
        .having(fn.COUNT(StageState.stage) == len(STAGES))
    )
    return Photo.select().where((Photo.status == OK) & Photo.id.not_in(complete)).count()


# -- people: the descriptors stage describes the faces "faces" finds and those already in the catalog
def _photos_with_undescribed_faces(photo_ids: set[int] | None) -> set[int]:
    """Photos (of `photo_ids`, when given) with a face that has no descriptor row yet (read from
    XMP, or kept through a re-run), unless describing failed there at the current version (it would
    fail again: --force retries)."""
    failed = StageState.select(StageState.photo).where(
        (StageState.stage == "descriptors")
        & (StageState.status == "failed")
        & (StageState.version == stage_versions()["descriptors"])
    )
    query = Face.select(Face.photo).join(FaceVector, JOIN.LEFT_OUTER, on=(FaceVector.face == Face.id))
    query = query.where(FaceVector.face.is_null() & Face.photo.not_in(failed))
    if photo_ids is not None:
        query = query.where(Face.photo.in_(list(photo_ids)))
    return {pid for (pid,) in query.distinct().tuples()}


def _descriptor_stages(todo: tuple[str, ...], stages: Sequence[str], undescribed: bool) -> tuple[str, ...]:
    """Descriptors follow faces: new boxes need them, and so do faces that have none."""
    if "descriptors" in stages and "descriptors" not in todo and ("faces" in todo or undescribed):
        return tuple(s for s in STAGES if s in todo or s == "descriptors")
    return todo


def _add_known_faces(task_list: list[Task]) -> None:
    """The catalog's faces each describing task needs: all of them where "faces" does not run,
    else those it keeps whatever the detector says (from XMP or the user)."""
    tasks = {t.photo_id: t for t in task_list if "descriptors" in t.stages}
    wanted = list(tasks)
    for lo in range(0, len(wanted), 900):
        rows = Face.select(Face.photo, Face.id, Face.x, Face.y, Face.w, Face.h, Face.source)
        for pid, fid, x, y, w, h, source in rows.where(Face.photo.in_(wanted[lo : lo + 900])).tuples():
            task = tasks[pid]
            if "faces" not in task.stages or source != DETECTED:
                task.known_faces.append((fid, (x, y, w, h)))

"""Which photos need which stages: the resume logic. A stage is finished for a photo when the catalog
holds a state row for it at the stage's current version (done, or failed: re-running a failed stage at
the same version would fail again, so only --force retries it)."""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Iterable, Sequence
from functools import reduce
from pathlib import Path

from peewee import fn

from app.core.analysis.stages import stage_versions
from app.core.catalog.models import OK, Photo, StageState
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
    tasks = []
    for pid, path, size, mtime_ns, sha256 in query.order_by(Photo.id).tuples():
        if wanted is not None and pid not in wanted:
            continue
        todo = tuple(s for s in stages if s not in finished[pid])
        if todo:
            # metadata read at import is not read again: that would put the file's rating, label and
            # title back over the user's edits made since (on another workstation, perhaps)
            again = "metadata" not in finished[pid]
            known = KnownFile(size, mtime_ns, sha256) if sha256 else None
            tasks.append(
                Task(local_path(path), todo, again, str(thumbs_dir), photo_id=pid, known=known, defer_slow=True)
            )
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

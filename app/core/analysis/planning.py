"""Which photos need which stages: the resume logic. A stage is finished for a photo when the catalog
holds a state row for it at the stage's current version (done, or failed: re-running a failed stage at
the same version would fail again, so only --force retries it)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

from app.core.analysis.work import stage_versions
from app.core.catalog.models import OK, Photo, StageState
from app.core.catalog.roots import local_path
from app.core.records import STAGES, Task


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
    query = Photo.select(Photo.id, Photo.path).where(Photo.status == OK)
    if photo_ids is not None:
        query = query.where(Photo.id.in_(list(photo_ids)))
    finished: dict[int, set[str]] = defaultdict(set)
    if not force:
        states = StageState.select(StageState.photo, StageState.stage, StageState.version)
        if photo_ids is not None:
            states = states.where(StageState.photo.in_(list(photo_ids)))
        for pid, stage, version in states.tuples():
            if versions.get(stage) == version:
                finished[pid].add(stage)
    tasks = []
    for pid, path in query.order_by(Photo.id).tuples():
        todo = tuple(s for s in stages if s not in finished[pid])
        if todo:
            # metadata read at import is not read again: that would put the file's rating, label and
            # title back over the user's edits made since (on another workstation, perhaps)
            again = "metadata" not in finished[pid]
            tasks.append(Task(local_path(path), todo, again, str(thumbs_dir), photo_id=pid))
    return tasks

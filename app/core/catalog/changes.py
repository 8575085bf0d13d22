"""The change log: how a view learns that another process or workstation changed photos.

Writer operations say which photos they changed (`note`); the writer adds one ChangeLog row per
committed batch, as the batch's last statement, so that a row's id order and commit order agree to
within milliseconds. A ChangeFeed polls the log (an indexed range query, every couple of seconds)
and returns what others changed since it last looked. It works the same on SQLite (the GUI sees a
`tessera tag` run in a terminal) and on PostgreSQL (another workstation's edits).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from app.core.catalog import dialect
from app.core.catalog.models import ChangeLog
from app.core.catalog.workstation import process_origin

MAX_LISTED = 5000  # a batch that changed more photos says "everything" instead of listing them
KEEP_S = 24 * 3600  # log rows older than this are pruned
PRUNE_EVERY = 500  # batches
GRACE_S = 5.0  # a poll looks back this far, so a batch that committed late is never missed

_pending = threading.local()


def note(photo_ids: Iterable[int] | None, what: str) -> None:
    """Called by writer operations: these photos changed (None: too many or unknown, e.g. a
    library-wide re-tagging). Recorded when the writer's batch commits."""
    pending = _batch()
    pending.whats.add(what)
    if photo_ids is None or pending.everything:
        pending.everything = True
        return
    pending.ids.update(int(i) for i in photo_ids)
    if len(pending.ids) > MAX_LISTED:
        pending.everything = True


@dataclass
class _Pending:
    ids: set[int] = field(default_factory=set)
    whats: set[str] = field(default_factory=set)
    everything: bool = False
    batches: int = 0


def _batch() -> _Pending:
    if not hasattr(_pending, "state"):
        _pending.state = _Pending()
    return _pending.state


def reset_batch() -> None:
    """The writer starts (or restarts) a batch: nothing noted yet."""
    state = _batch()
    state.ids.clear()
    state.whats.clear()
    state.everything = False


def record_batch() -> None:
    """Inside the writer's transaction, after its operations: one log row if they changed photos."""
    state = _batch()
    if not state.whats:
        return
    ids = None if state.everything else json.dumps(sorted(state.ids))
    ChangeLog.insert(
        at=dialect.server_seconds(), origin=process_origin(), what=",".join(sorted(state.whats)), photo_ids=ids
    ).execute()
    state.batches += 1
    if state.batches % PRUNE_EVERY == 0:
        ChangeLog.delete().where(ChangeLog.at < dialect.server_seconds() - KEEP_S).execute()
    reset_batch()


@dataclass
class Changes:
    photo_ids: set[int] = field(default_factory=set)
    everything: bool = False  # a change too large to list: refresh all
    whats: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return self.everything or bool(self.photo_ids)


class ChangeFeed:
    """What other writers changed since the last poll (this process's own writes are left out: its
    views already show them)."""

    def __init__(self) -> None:
        self._origin = process_origin()
        self._since = dialect.server_now()
        self._seen: dict[int, float] = {}
        self.poll()  # what happened before the feed started is not news

    def poll(self) -> Changes:
        out = Changes()
        rows = (
            ChangeLog.select(ChangeLog.id, ChangeLog.at, ChangeLog.what, ChangeLog.photo_ids)
            .where((ChangeLog.at >= self._since - GRACE_S) & (ChangeLog.origin != self._origin))
            .tuples()
        )
        for row_id, at, what, ids in rows:
            if row_id in self._seen:
                continue
            self._seen[row_id] = at
            self._since = max(self._since, at)
            out.whats.update(what.split(","))
            if ids is None:
                out.everything = True
            else:
                out.photo_ids.update(json.loads(ids))
        horizon = self._since - 2 * GRACE_S
        self._seen = {k: v for k, v in self._seen.items() if v >= horizon}
        return out

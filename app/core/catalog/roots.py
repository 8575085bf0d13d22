"""Library roots: the top folders photos were imported from, stored once, and where each workstation
finds them. The studio's NAS is /Volumes/Photos on one machine and /mnt/photos on another: the
catalog keeps the path the first workstation imported from, and a workstation whose mount differs
maps the root to its own path (`tessera roots map`). Paths are translated at the edges only, where a
file is opened or a path typed by the user comes in: `local_path` for reading, `stored_path` for the
catalog. Without a mapping both are the identity, as for a single workstation."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from app.core.catalog.models import LibraryRoot, RootMount
from app.core.catalog.workstation import workstation_name


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _swap(path: str, old: str, new: str) -> str:
    return new + path[len(old.rstrip(os.sep)) :] if path != old else new


@dataclass(frozen=True)
class PathMap:
    """(stored root, this workstation's mount) pairs whose paths differ, longest first."""

    pairs: tuple[tuple[str, str], ...] = ()

    def to_local(self, stored: str) -> str:
        for root, mount in self.pairs:
            if _under(stored, root):
                return _swap(stored, root, mount)
        return stored

    def to_stored(self, local: str) -> str:
        for root, mount in sorted(self.pairs, key=lambda p: len(p[1]), reverse=True):
            if _under(local, mount):
                return _swap(local, mount, root)
        return local


_active = PathMap()


def activate(path_map: PathMap) -> None:
    """This process's translation (the catalog is one per process, like the models' database)."""
    global _active
    _active = path_map


def local_path(stored: str) -> str:
    return _active.to_local(stored)


def stored_path(local: str) -> str:
    return _active.to_stored(local)


def load_path_map(workstation: str | None = None) -> PathMap:
    station = workstation or workstation_name()
    rows = (
        RootMount.select(LibraryRoot.path, RootMount.path)
        .join(LibraryRoot)
        .where((RootMount.workstation == station) & (RootMount.path != LibraryRoot.path))
        .tuples()
    )
    return PathMap(tuple(sorted(rows, key=lambda p: len(p[0]), reverse=True)))


@dataclass
class RootInfo:
    id: int
    path: str  # as stored
    local: str  # where this workstation finds it
    found: bool
    mounts: dict[str, str] = field(default_factory=dict)  # workstation -> its path


def list_roots(workstation: str | None = None) -> list[RootInfo]:
    station = workstation or workstation_name()
    out = []
    for root in LibraryRoot.select().order_by(LibraryRoot.path):
        mounts = {m.workstation: m.path for m in RootMount.select().where(RootMount.root == root.id)}
        local = mounts.get(station, root.path)
        out.append(RootInfo(root.id, root.path, local, os.path.isdir(local), mounts))
    return out


def register_roots(local_folders: list[str]) -> None:
    """Writer op, at import: each imported folder not under a known root becomes one, stored as this
    workstation sees it (its mount is then the stored path itself)."""
    known = [r.path for r in LibraryRoot.select(LibraryRoot.path)]
    for folder in local_folders:
        stored = stored_path(folder)
        if any(_under(stored, root) for root in known):
            continue
        root = LibraryRoot.create(path=stored)
        RootMount.create(root=root.id, workstation=workstation_name(), path=folder)
        known.append(stored)


def find_root(ref: str) -> LibraryRoot | None:
    """A root by id or by its stored path."""
    if ref.isdigit():
        return LibraryRoot.get_or_none(LibraryRoot.id == int(ref))
    return LibraryRoot.get_or_none(LibraryRoot.path == (os.path.abspath(ref).rstrip(os.sep) or os.sep))


def map_root(root_id: int, local_folder: str, workstation: str | None = None) -> None:
    """Writer op: this workstation finds root `root_id` at `local_folder`."""
    station = workstation or workstation_name()
    RootMount.delete().where((RootMount.root == root_id) & (RootMount.workstation == station)).execute()
    RootMount.create(root=root_id, workstation=station, path=local_folder)

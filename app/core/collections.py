"""Collections as in Lightroom: collections (photos gathered by hand, kept in their own order or a
sort), smart collections (a saved Filter, live as the library changes) and collection sets that hold
both, nested. A photo can be in any number of collections. Writes go through the catalog writer.

Collections are named by path from the top ("Clients/Smith wedding"); a name alone does when it is
unique. Photos that went missing or to the trash stay members (they come back with their photo) but
are neither counted nor listed, and a photo row that is deleted takes its memberships along."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from peewee import fn

from app.core.catalog import queries
from app.core.catalog.filter_json import from_json, to_json
from app.core.catalog.models import OK, Collection, CollectionPhoto, Photo
from app.core.catalog.queries import SORTS, Filter
from app.core.catalog.store import now_iso
from app.core.errors import TesseraError

COLLECTION, SMART, SET = "collection", "smart", "set"
KINDS = (COLLECTION, SMART, SET)
MANUAL = "manual"  # the sort that keeps the order photos were put in (and dragged to)
TARGET_SETTING = "target_collection"  # where B adds the selection, as in Lightroom
SEPARATOR = "/"
_CHUNK = 500  # rows a statement: SQLite's limit on variables is 999 on old builds


class CollectionError(TesseraError):
    """A collection that does not exist, a name taken, a photo added to a set, ..."""


@dataclass(frozen=True)
class CollectionInfo:
    id: int
    name: str
    kind: str
    parent_id: int | None
    path: str  # "Set/Sub set/Name"
    depth: int
    count: int | None  # photos shown (sets: None)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "kind": self.kind, "path": self.path, "parent": self.parent_id,
                "photos": self.count}  # fmt: skip


# -- reading ----------------------------------------------------------------------------------------
def _path(c: Collection, by_id: dict[int, Collection]) -> str:
    parts = [c.name]
    parent = c.parent_id
    while parent is not None and parent in by_id:
        parts.append(by_id[parent].name)
        parent = by_id[parent].parent_id
    return SEPARATOR.join(reversed(parts))


def listing(counts: bool = True) -> list[CollectionInfo]:
    """Every collection, set and smart collection in tree order (sets first among siblings, then by
    name), with the number of photos each shows."""
    rows = list(Collection.select())
    by_id = {c.id: c for c in rows}
    manual = _manual_counts() if counts else {}
    children: dict[int | None, list[Collection]] = {}
    for c in rows:
        children.setdefault(c.parent_id, []).append(c)
    out: list[CollectionInfo] = []

    def walk(parent: int | None, depth: int) -> None:
        for c in sorted(children.get(parent, []), key=lambda c: (c.kind != SET, c.name.lower())):
            count = None
            if counts and c.kind == COLLECTION:
                count = manual.get(c.id, 0)
            elif counts and c.kind == SMART:
                count = queries.count(filter_of(c).with_(statuses=(OK,)))
            out.append(CollectionInfo(c.id, c.name, c.kind, c.parent_id, _path(c, by_id), depth, count))
            walk(c.id, depth + 1)

    walk(None, 0)
    return out


def _manual_counts() -> dict[int, int]:
    query = (
        CollectionPhoto.select(CollectionPhoto.collection, fn.COUNT(CollectionPhoto.photo))
        .join(Photo, on=(CollectionPhoto.photo == Photo.id))
        .where(Photo.status == OK)
        .group_by(CollectionPhoto.collection)
        .tuples()
    )
    return dict(query)


def resolve(ref: str | int) -> Collection:
    """A collection by id, by path ("Clients/Smith") or by its name alone when that is unique."""
    if isinstance(ref, int) or str(ref).isdigit():
        found = Collection.get_or_none(Collection.id == int(ref))
        if found is not None:
            return found
    ref = str(ref).strip()
    rows = list(Collection.select())
    by_id = {c.id: c for c in rows}
    exact = [c for c in rows if _path(c, by_id) == ref] or [c for c in rows if c.name == ref]
    if len(exact) == 1:
        return exact[0]
    if exact:
        paths = ", ".join(sorted(_path(c, by_id) for c in exact))
        raise CollectionError(f"{len(exact)} collections are called {ref!r}: name one by its path ({paths})")
    raise CollectionError(f"no collection {ref!r} (tessera collection list shows them)")


def filter_of(c: Collection, base: Filter | None = None) -> Filter:
    """What the grid and `collection show` query for a collection: a smart one's saved filter, or the
    collection's members in its order (narrowed by `base`, the filter bar's other criteria)."""
    if c.kind == SMART:
        return from_json(c.filter_json or "{}")
    if c.kind == SET:
        raise CollectionError(f"{c.name!r} is a collection set: it holds collections, not photos")
    return (base or Filter()).with_(collection=c.id, sort=c.sort, descending=c.descending)


def within(f: Filter, ref: str | int) -> Filter:
    """A search narrowed to a collection's photos (a smart one's: its criteria instead), in the
    search's sort."""
    c = resolve(ref)
    if c.kind == SMART:
        return filter_of(c).with_(statuses=f.statuses, sort=f.sort, descending=f.descending)
    return filter_of(c, f).with_(sort=f.sort, descending=f.descending)


def photo_ids(c: Collection, statuses: tuple[str, ...] = (OK,)) -> list[int]:
    return queries.search_ids(filter_of(c).with_(statuses=statuses))


def collections_of(photo_id: int) -> list[str]:
    """Paths of the manual collections a photo is in (the inspector lists them)."""
    rows = list(Collection.select())
    by_id = {c.id: c for c in rows}
    member = CollectionPhoto.select(CollectionPhoto.collection).where(CollectionPhoto.photo == photo_id)
    return sorted(_path(by_id[cid], by_id) for (cid,) in member.tuples() if cid in by_id)


# -- changing ---------------------------------------------------------------------------------------
def _check_name(name: str, parent_id: int | None, kind: str, exclude: int | None = None) -> str:
    name = name.strip()
    if not name:
        raise CollectionError("a collection needs a name")
    if SEPARATOR in name:
        raise CollectionError(f"a collection name cannot contain {SEPARATOR!r} (it separates sets in paths)")
    same = Collection.select().where((Collection.name == name) & (Collection.kind == kind))
    same = same.where(Collection.parent.is_null() if parent_id is None else Collection.parent == parent_id)
    if exclude is not None:
        same = same.where(Collection.id != exclude)
    if same.exists():
        raise CollectionError(f"there is already a {_kind_word(kind)} called {name!r} here")
    return name


def _kind_word(kind: str) -> str:
    return {COLLECTION: "collection", SMART: "smart collection", SET: "collection set"}[kind]


def create(
    lib: Any, name: str, *, kind: str = COLLECTION, parent: str | int | None = None, saved: Filter | None = None
) -> int:
    """A new collection, smart collection (with `saved`, its filter) or set, at the top or in the set
    `parent`. Returns its id."""
    if kind not in KINDS:
        raise CollectionError(f"a collection is one of {', '.join(KINDS)}, not {kind!r}")
    if (kind == SMART) != (saved is not None):
        raise CollectionError("a smart collection needs a filter, and only a smart collection has one")
    parent_id = None
    if parent is not None:
        holder = resolve(parent)
        if holder.kind != SET:
            raise CollectionError(f"{holder.name!r} is not a collection set: only sets hold collections")
        parent_id = holder.id
    name = _check_name(name, parent_id, kind)
    filter_json = None if saved is None else to_json(saved)
    return lib.writer.call(
        lambda: (
            Collection.create(
                name=name,
                kind=kind,
                parent=parent_id,
                filter_json=filter_json,
                sort=MANUAL,
                descending=False,
                created_at=now_iso(),
            ).id
        )
    )


def rename(lib: Any, collection_id: int, name: str) -> None:
    c = Collection.get_by_id(collection_id)
    name = _check_name(name, c.parent_id, c.kind, exclude=c.id)
    lib.writer.call(lambda: Collection.update(name=name).where(Collection.id == c.id).execute())


def delete(lib: Any, collection_id: int) -> None:
    """The collection (a set: with everything in it); the photos stay in the library."""
    lib.writer.call(lambda: Collection.delete().where(Collection.id == collection_id).execute())
    if target(lib) is None and lib.setting(TARGET_SETTING):  # it was the target, or in a deleted set
        lib.set_setting(TARGET_SETTING, "")


def save_filter(lib: Any, collection_id: int, saved: Filter) -> None:
    """A smart collection's new criteria (edited in the filter bar, or on the command line)."""
    c = Collection.get_by_id(collection_id)
    if c.kind != SMART:
        raise CollectionError(f"{c.name!r} is not a smart collection")
    text = to_json(saved)
    lib.writer.call(lambda: Collection.update(filter_json=text).where(Collection.id == c.id).execute())


def set_sort(lib: Any, collection_id: int, sort: str, descending: bool = False) -> None:
    """A collection's order: MANUAL (as put in and dragged) or one of queries.SORTS."""
    if sort not in SORTS:
        raise CollectionError(f"sort by one of {', '.join(SORTS)}, not {sort!r}")
    lib.writer.call(
        lambda: Collection.update(sort=sort, descending=descending).where(Collection.id == collection_id).execute()
    )


def _manual(collection_id: int) -> Collection:
    c = Collection.get_or_none(Collection.id == collection_id)
    if c is None:
        raise CollectionError(f"no collection {collection_id}")
    if c.kind != COLLECTION:
        what = "its filter decides which photos are in it" if c.kind == SMART else "it holds collections"
        raise CollectionError(f"cannot put photos into {c.name!r} by hand: {what}")
    return c


def add(lib: Any, collection_id: int, photo_ids: Sequence[int]) -> int:
    """Append photos to a collection (those already in it stay where they are). Returns how many were
    new to it. One statement a chunk: 10k photos in one writer call."""
    c = _manual(collection_id)
    wanted = list(dict.fromkeys(photo_ids))

    def op() -> int:
        have = {
            pid
            for (pid,) in CollectionPhoto.select(CollectionPhoto.photo)
            .where(CollectionPhoto.collection == c.id)
            .tuples()
        }
        new = [pid for pid in wanted if pid not in have]
        start = (CollectionPhoto.select(fn.MAX(CollectionPhoto.position)).where(
            CollectionPhoto.collection == c.id).scalar() or 0) + 1  # fmt: skip
        _insert_members(c.id, new, start)
        return len(new)

    return lib.writer.call(op)


def _insert_members(collection_id: int, photo_ids: list[int], first_position: int) -> None:
    """One prepared INSERT run over all the rows (on the writer's thread): 10k photos in ~20 ms,
    where building peewee queries of 500 rows took ~40 ms each."""
    database = CollectionPhoto._meta.database
    param = database.param
    sql = f"INSERT INTO collection_photo (collection_id, photo_id, position) VALUES ({param}, {param}, {param})"
    rows = [(collection_id, pid, first_position + i) for i, pid in enumerate(photo_ids)]
    database.cursor().executemany(sql, rows)


def remove(lib: Any, collection_id: int, photo_ids: Sequence[int]) -> int:
    """Take photos out of a collection (never out of the library). Returns how many were in it."""
    c = _manual(collection_id)
    ids = list(photo_ids)

    def op() -> int:
        gone = 0
        for i in range(0, len(ids), _CHUNK):
            gone += (
                CollectionPhoto.delete()
                .where((CollectionPhoto.collection == c.id) & CollectionPhoto.photo.in_(ids[i : i + _CHUNK]))
                .execute()
            )
        return gone

    return lib.writer.call(op)


def move(lib: Any, collection_id: int, photo_ids: Sequence[int], before: int | None) -> None:
    """Drag in the grid: put `photo_ids` (in their current order) right before the photo `before`
    (None: at the end), and keep the collection in that order from now on."""
    c = _manual(collection_id)
    moving = set(photo_ids)

    def op() -> None:
        order = [
            pid
            for (pid,) in CollectionPhoto.select(CollectionPhoto.photo)
            .where(CollectionPhoto.collection == c.id)
            .order_by(CollectionPhoto.position, CollectionPhoto.photo)
            .tuples()
        ]
        block = [pid for pid in order if pid in moving]
        rest = [pid for pid in order if pid not in moving]
        at = rest.index(before) if before in rest else len(rest)
        new_order = rest[:at] + block + rest[at:]
        CollectionPhoto.delete().where(CollectionPhoto.collection == c.id).execute()
        _insert_members(c.id, new_order, 1)
        Collection.update(sort=MANUAL, descending=False).where(Collection.id == c.id).execute()

    lib.writer.call(op)


# -- the target collection (B) ------------------------------------------------------------------------
def _target_id(lib: Any) -> int | None:
    value = lib.setting(TARGET_SETTING) or ""
    return int(value) if value.isdigit() else None


def target(lib: Any) -> Collection | None:
    cid = _target_id(lib)
    c = Collection.get_or_none(Collection.id == cid) if cid is not None else None
    return c if c is not None and c.kind == COLLECTION else None


def set_target(lib: Any, collection_id: int | None) -> None:
    if collection_id is not None:
        _manual(collection_id)
    lib.set_setting(TARGET_SETTING, "" if collection_id is None else str(collection_id))

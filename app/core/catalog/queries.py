"""Filter -> SQL. The one filter object behind the GUI's filter bar and `tessera search`/`list`."""

from __future__ import annotations

import operator
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import reduce

from peewee import JOIN, Expression, Node, Ordering, fn

from app.core.catalog import dialect, places
from app.core.catalog.dialect import unindexed
from app.core.catalog.models import CONFIRMED, OK, UNNAMED, CollectionPhoto, Face, Photo, PhotoColor, PhotoTag, Tag
from app.core.catalog.roots import stored_path
from app.core.flags import flag_condition, label_condition

# Sort keys: columns after the first break ties; the photo id comes last, so the order is total.
SORTS = {
    "date": (Photo.taken_at, Photo.filename),
    "name": (Photo.filename,),
    "size": (Photo.size,),
    "rating": (Photo.rating, Photo.taken_at),
    "imported": (),
    "manual": (),  # a collection's own order (CollectionPhoto.position); the import order elsewhere
}
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


@dataclass(frozen=True)
class Filter:
    text: str = ""  # words matched against file name, folder, camera, tags and place names
    tags: tuple[str, ...] = ()
    any_tag: bool = False  # tags combine with OR instead of AND
    colors: tuple[tuple[str, float], ...] = ()  # (palette name, minimum percent)
    camera: str = ""  # substring of make or model
    since: str = ""  # YYYY, YYYY-MM or YYYY-MM-DD (inclusive)
    until: str = ""  # inclusive, same forms
    has_gps: bool | None = None
    min_faces: int | None = None
    max_faces: int | None = None
    formats: tuple[str, ...] = ()
    min_rating: int | None = None
    flags: tuple[str, ...] = ()  # pick | reject | none, any of them (flags.FLAGS)
    labels: tuple[str, ...] = ()  # colour labels (Red, ..., or "none"), any of them
    collection: int | None = None  # photos in this collection (a manual one: Collection.kind "collection")
    folder: str = ""  # photos under this folder
    statuses: tuple[str, ...] = (OK,)
    photo_ids: tuple[int, ...] | None = None  # restrict to these (e.g. a duplicate cluster)
    place: str = ""  # a country (or its code), region or city name, any case
    place_path: tuple[str | None, ...] = ()  # a node of the sidebar's Places tree
    near: tuple[float, float, float] | None = None  # (lat, lon, km): within km, great-circle
    area: tuple[float, float, float, float] | None = None  # (south, west, north, east): the map's
    person_ids: tuple[int, ...] = ()  # photos with a confirmed face of each person (or group) listed
    any_person: bool = False  # persons combine with OR instead of AND
    sort: str = "date"
    descending: bool = False

    def with_(self, **changes: object) -> Filter:
        return replace(self, **changes)  # type: ignore[arg-type]

    def is_empty(self) -> bool:
        return self == Filter(sort=self.sort, descending=self.descending)


_UNFILTERED = Filter()


def _check_date(value: str) -> None:
    if value and not _DATE.match(value):
        raise ValueError(f"dates are YYYY, YYYY-MM or YYYY-MM-DD, not {value!r}")


def _after_prefix(value: str) -> str:
    """The first date string after every date starting with `value` ("2019" -> "2019~")."""
    return value + "~"  # '~' sorts after digits, 'T', ':' and '-'


# Tag and color conditions are uncorrelated `id IN (subquery)`: SQLite runs the subquery once on
# its (tag, source) / (name, share) index instead of once per photo (2-3x faster at 100k photos).
def _tag_exists(names: tuple[str, ...]) -> Expression:
    sub = PhotoTag.select(PhotoTag.photo).join(Tag).where(fn.LOWER(Tag.name).in_([n.lower() for n in names]))
    return Photo.id.in_(sub)


def _color_exists(name: str, share: float) -> Expression:
    sub = PhotoColor.select(PhotoColor.photo).where((PhotoColor.name == name) & (PhotoColor.share >= share))
    return Photo.id.in_(sub)


def _person_exists(ids: tuple[int, ...]) -> Expression:
    """Photos with a face of one of these persons (confirmed: suggestions are not answers yet) or
    groups, from the (person, state) index."""
    sub = Face.select(Face.photo).where(Face.person.in_(list(ids)) & Face.person_state.in_([CONFIRMED, UNNAMED]))
    return Photo.id.in_(sub)


def _text_clause(word: str) -> Expression:
    like = f"%{word}%"
    tagged = PhotoTag.select(PhotoTag.photo).join(Tag).where(Tag.name**like)
    return (
        (Photo.filename**like)
        | (Photo.folder**like)
        | (Photo.make**like)
        | (Photo.model**like)
        | Photo.id.in_(tagged)
        | places.text_clause(word)
    )


def _any(clauses: Iterable[Expression]) -> Expression:
    return reduce(operator.or_, clauses)


def _members(collection_id: int) -> Node:
    return CollectionPhoto.select(CollectionPhoto.photo).where(CollectionPhoto.collection == collection_id)


def conditions(f: Filter, status_by_index: bool = True) -> list[Expression]:
    _check_date(f.since)
    _check_date(f.until)
    where: list[Expression] = []
    if f.statuses:
        status = Photo.status if status_by_index else unindexed(Photo.status)
        where.append(status.in_(list(f.statuses)))
    for word in f.text.split():
        where.append(_text_clause(word))
    if f.tags:
        if f.any_tag:
            where.append(_tag_exists(f.tags))
        else:
            where.extend(_tag_exists((t,)) for t in f.tags)
    for name, share in f.colors:
        where.append(_color_exists(name, share))
    if f.person_ids:
        if f.any_person:
            where.append(_person_exists(f.person_ids))
        else:
            where.extend(_person_exists((p,)) for p in f.person_ids)
    if f.camera:
        like = f"%{f.camera}%"
        where.append((Photo.make**like) | (Photo.model**like))
    if f.since:
        where.append(Photo.taken_at >= f.since)
    if f.until:
        where.append(Photo.taken_at < _after_prefix(f.until))
    if f.has_gps is True:
        where.append(Photo.gps_lat.is_null(False))
    elif f.has_gps is False:
        where.append(Photo.gps_lat.is_null(True))
    if f.min_faces is not None:
        where.append(Photo.face_count >= f.min_faces)
    if f.max_faces is not None:
        where.append(Photo.face_count <= f.max_faces)
    if f.formats:
        where.append(fn.UPPER(Photo.format).in_([x.upper() for x in f.formats]))
    if f.min_rating is not None:
        where.append(Photo.rating >= f.min_rating)
    if f.flags:
        where.append(_any(flag_condition(x) for x in f.flags))
    if f.labels:
        where.append(_any(label_condition(x) for x in f.labels))
    if f.collection is not None:
        where.append(Photo.id.in_(_members(f.collection)))
    if f.folder:
        root = stored_path(os.path.abspath(f.folder)).rstrip(os.sep)
        where.append((Photo.folder == root) | Photo.folder.startswith(root + os.sep))
    if f.photo_ids is not None:
        where.append(Photo.id.in_(list(f.photo_ids)))
    if f.place:
        where.append(places.name_clause(f.place))
    if f.place_path:
        where.append(places.path_clause(f.place_path))
    if f.near is not None:
        where.append(places.near_clause(*f.near))
    if f.area is not None:
        where.append(places.area_clause(*f.area))
    return where


def query(f: Filter, *fields: object):  # -> peewee SelectQuery
    if f.sort not in SORTS:
        raise ValueError(f"sort by one of {', '.join(SORTS)}, not {f.sort!r}")
    q = Photo.select(*fields) if fields else Photo.select()
    if _by_hand(f):  # the collection's own order: its rows, position by position, joined to the photos
        q = q.join(CollectionPhoto, on=(CollectionPhoto.photo == Photo.id))
        # status from the photo's id alone: probing the (id, status) index once per status was 20% slower
        where = [CollectionPhoto.collection == f.collection, *conditions(f.with_(collection=None), False)]
        keys = (CollectionPhoto.position, CollectionPhoto.photo)  # as the index has them: no sort step
        order = [k.desc() if f.descending else k.asc() for k in keys]
        return q.where(*where).order_by(*order)
    # sorting by index: keep SQLite off the status index, which it would pick without statistics
    where = conditions(f, status_by_index=not _sorts_by_index(f))
    if where:
        q = q.where(*where)
    return q.order_by(*order_by(f))


def order_by(f: Filter) -> list[Ordering]:
    """ORDER BY terms in the form of the catalog's covering sort indexes (connection._migration_3):
    the first key's NULLs last as `key IS NULL` (what SQLite can read from an index, unlike NULLS
    LAST), then the keys, then the id, in one direction.

    The indexes only pay when nothing but status (and dates, for the date sort) narrows the rows:
    otherwise SQLite would walk the index and fetch each photo's wide row in sort order, 3-5x slower
    than finding the matches and sorting those. A unary `+` tells it not to sort by the index."""
    keys = [*SORTS[f.sort], Photo.id]
    by_index = _sorts_by_index(f)
    pg = dialect.is_postgres()
    terms: list[Ordering] = []
    for i, key in enumerate(keys):
        node = key if by_index else unindexed(key)
        if i == 0 and key.null:
            terms.append(node.is_null().asc())  # NULLs last in both directions
        # later keys: NULL is the smallest value, as SQLite has it (PostgreSQL's NULL is the largest)
        nulls = ("last" if f.descending else "first") if pg and i > 0 and key.null else None
        terms.append(node.desc(nulls=nulls) if f.descending else node.asc(nulls=nulls))
    return terms


def _by_hand(f: Filter) -> bool:
    return f.sort == "manual" and f.collection is not None


def _sorts_by_index(f: Filter) -> bool:
    ignored = {"statuses", "sort", "descending"} | ({"since", "until"} if f.sort == "date" else set())
    return all(getattr(f, name) == getattr(_UNFILTERED, name) for name in vars(f) if name not in ignored)


def search_ids(f: Filter) -> list[int]:
    sql, params = query(f, Photo.id).sql()
    # a plain cursor: building 100k peewee rows would cost more than the query itself
    return [pid for (pid,) in Photo._meta.database.execute_sql(sql, params).fetchall()]


def count(f: Filter) -> int:
    q = Photo.select(fn.COUNT(Photo.id))
    where = conditions(f)
    if where:
        q = q.where(*where)
    return q.scalar() or 0


def tag_counts() -> list[tuple[str, int, str]]:
    """(tag, photos, strongest source) for the sidebar tree."""
    rows = (
        Tag.select(Tag.name, fn.COUNT(fn.DISTINCT(PhotoTag.photo)), fn.MIN(PhotoTag.source))
        .join(PhotoTag, JOIN.INNER)
        .join(Photo, on=(PhotoTag.photo == Photo.id))
        .where(Photo.status == OK)
        .group_by(Tag.name)
        .order_by(Tag.name)
        .tuples()
    )
    return list(rows)

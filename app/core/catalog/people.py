"""People in the catalog: persons and unnamed groups, which face is whose, and the user's decisions.

Reads run on any thread; the functions that write (the ones taking decisions) run on the writer
thread (app/core/people/persons.py submits them). Only the user names, merges, confirms and rejects:
the grouping and placing code (app/core/people/placing.py) changes unnamed faces and suggestions only.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from peewee import JOIN, fn

from app.core.catalog import changes, dialect
from app.core.catalog.models import (
    CONFIRMED,
    OK,
    SUGGESTED,
    UNNAMED,
    Face,
    FaceRejection,
    FaceVector,
    Person,
    Photo,
    Setting,
)
from app.core.catalog.roots import local_path

_CHUNK = 900  # ids per IN (...): below SQLite's variable limit
GENERATION = "people_generation"  # setting: a new token on every change of who a face is
PEOPLE = "people"  # what the change log says people decisions and placements changed
LOOSE = 0  # the People window's entry for the faces in no person and no group (not a Person row)


def _rows(query) -> list[tuple]:  # type: ignore[no-untyped-def]
    """A query's rows from a plain cursor: 50k rows in ~0.1 s where peewee's row objects take ~1 s
    (a large group in the People window, the grouped counts of 100k faces)."""
    sql, params = query.sql()
    return Face._meta.database.execute_sql(sql, params).fetchall()


def _not_suggested():  # type: ignore[no-untyped-def]
    return Face.person_state.is_null() | (Face.person_state != SUGGESTED)


def _now() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")


# -- persons ---------------------------------------------------------------------------------------
def clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise ValueError("a person's name cannot be empty")
    return cleaned


def find_person(name: str) -> Person | None:
    """The named person, whatever the case of `name` ("anne" finds "Anne")."""
    return Person.select().where(fn.LOWER(Person.name) == clean_name(name).lower()).first()


def person_named(name: str) -> Person:
    """The person of that name, created if new. Writer thread."""
    return find_person(name) or Person.create(name=clean_name(name), created_at=_now())


def drop_empty_groups(among: Iterable[int] | None = None) -> None:
    """Unnamed groups left without faces go (all of them, or those `among` some groups faces just
    left: no scan of every face); named persons stay even without faces (user data)."""
    if among is None:
        used = Face.select(Face.person).where(Face.person.is_null(False))
        Person.delete().where(Person.name.is_null() & Person.id.not_in(used)).execute()
        return
    for chunk in _in_chunks(among):
        used = Face.select(Face.person).where(Face.person.in_(chunk))
        Person.delete().where(Person.name.is_null() & Person.id.in_(chunk) & Person.id.not_in(used)).execute()


def generation() -> str | None:
    """The token of the catalog's people as they are: a placing index built at this token is still
    right (app/core/people/persons.py keeps one in memory between runs)."""
    row = Setting.get_or_none(Setting.key == GENERATION)
    return row.value if row else None


def bump_generation(expected: str | None = None) -> tuple[str, bool]:
    """Writer thread: who a face is changed. Returns the new token and whether the old one was
    `expected` (then an index that made this change itself is still right at the new token)."""
    token = uuid.uuid4().hex
    was = generation()
    dialect.upsert(Setting, (Setting.key,), key=GENERATION, value=token)
    return token, expected is not None and was == expected


def note_photos_of(face_ids: Iterable[int] = (), person_ids: Iterable[int] = ()) -> list[int]:
    """Writer thread: tell the change log (other workstations' views) that these faces' photos and
    these persons' photos changed; returns the photo ids."""
    photos: set[int] = set()
    for chunk in _in_chunks(face_ids):
        photos.update(p for (p,) in Face.select(Face.photo).where(Face.id.in_(chunk)).tuples())
    for chunk in _in_chunks(person_ids):
        photos.update(p for (p,) in Face.select(Face.photo).where(Face.person.in_(chunk)).tuples())
    changes.note(photos, PEOPLE)
    return sorted(photos)


# -- reading ---------------------------------------------------------------------------------------
@dataclass
class PersonSummary:
    id: int
    name: str | None  # None: an unnamed group
    faces: int  # confirmed faces of a person, all faces of a group
    suggested: int = 0
    photos: int = 0  # photos with a confirmed face (named persons)
    cover: int | None = None  # a face id to show

    @property
    def label(self) -> str:
        if self.id == LOOSE:
            return "Faces in no group"
        return self.name or unnamed_label(self.id)


def person_summaries() -> list[PersonSummary]:
    """Named persons by name, then unnamed groups, largest first. One grouped pass over the
    (person, state) index (counts, and the face shown where no cover was chosen), one over the named
    persons' photos."""
    counts: dict[int, dict[str, int]] = {}
    first: dict[int, int] = {}
    rows = _rows(
        Face.select(Face.person, Face.person_state, fn.COUNT(Face.id), fn.MIN(Face.id))
        .where(Face.person.is_null(False))
        .group_by(Face.person, Face.person_state)
    )
    for pid, state, n, lowest in rows:
        counts.setdefault(pid, {})[state] = n
        if state != SUGGESTED:
            first[pid] = min(first.get(pid, lowest), lowest)
    photos = dict(
        Face.select(Face.person, fn.COUNT(fn.DISTINCT(Face.photo)))
        .join(Photo, on=(Face.photo == Photo.id))
        .where((Face.person_state == CONFIRMED) & (Photo.status == OK))
        .group_by(Face.person)
        .tuples()
    )
    named, groups = [], []
    for pid, name, chosen in _rows(Person.select(Person.id, Person.name, Person.cover_face)):
        c = counts.get(pid, {})
        cover = chosen or first.get(pid)
        if name is None:
            if c:
                groups.append(PersonSummary(pid, None, sum(c.values()), cover=cover))
        else:
            named.append(PersonSummary(pid, name, c.get(CONFIRMED, 0), c.get(SUGGESTED, 0), photos.get(pid, 0), cover))
    named.sort(key=lambda p: (p.name or "").lower())
    groups.sort(key=lambda p: (-p.faces, p.id))
    return named + groups


@dataclass
class FaceInfo:
    id: int
    photo_id: int
    path: str
    box: tuple[int, int, int, int]
    state: str  # CONFIRMED | SUGGESTED | UNNAMED
    person_id: int | None
    thumb_key: str | None
    width: int | None  # the photo's displayed size
    height: int | None
    distance: float | None = None  # a suggestion's distance to its person


_FACE_FIELDS = (Face.id, Face.photo, Photo.path, Face.x, Face.y, Face.w, Face.h, Face.person_state, Face.person,
                Photo.thumb_key, Photo.width, Photo.height, Face.suggest_distance)  # fmt: skip


def _face_infos(query) -> list[FaceInfo]:  # type: ignore[no-untyped-def]
    return [
        FaceInfo(fid, pid, local_path(path), (x, y, w, h), state or UNNAMED, person, key, width, height, dist)
        for fid, pid, path, x, y, w, h, state, person, key, width, height, dist in _rows(query)
    ]


def faces_of_person(person_id: int, limit: int | None = None) -> list[FaceInfo]:
    """Suggestions first (closest first), then the person's or group's other faces, newest photo first."""
    query = (
        Face.select(*_FACE_FIELDS)
        .join(Photo, on=(Face.photo == Photo.id))
        .where((Face.person == person_id) & (Photo.status == OK))
        .order_by((Face.person_state != SUGGESTED), Face.suggest_distance, Photo.taken_at.desc(), Face.id)
    )
    return _face_infos(query.limit(limit) if limit else query)


def faces_by_ids(face_ids: Sequence[int]) -> list[FaceInfo]:
    out: list[FaceInfo] = []
    ids = list(face_ids)
    for lo in range(0, len(ids), _CHUNK):
        query = Face.select(*_FACE_FIELDS).join(Photo, on=(Face.photo == Photo.id))
        out += _face_infos(query.where(Face.id.in_(ids[lo : lo + _CHUNK])))
    return out


def loose_faces(limit: int | None = None) -> list[FaceInfo]:
    """Faces in no person and no group (alone, or not placed yet)."""
    query = (
        Face.select(*_FACE_FIELDS)
        .join(Photo, on=(Face.photo == Photo.id))
        .where(Face.person.is_null() & (Photo.status == OK))
        .order_by(Photo.taken_at.desc(), Face.id)
    )
    return _face_infos(query.limit(limit) if limit else query)


def loose_count() -> int:
    """How many faces of readable photos are in no person and no group."""
    query = Face.select().join(Photo, on=(Face.photo == Photo.id))
    return query.where(Face.person.is_null() & (Photo.status == OK)).count()


@dataclass
class PhotoFace:
    """One face of a photo as the viewer, the inspector and `show --json` show it."""

    id: int
    box: tuple[int, int, int, int]
    score: float
    state: str
    person_id: int | None
    person: str | None  # the name (None for an unnamed group or no one)


def photo_faces(photo_id: int) -> list[PhotoFace]:
    rows = (
        Face.select(Face.id, Face.x, Face.y, Face.w, Face.h, Face.score, Face.person_state, Face.person, Person.name)
        .join(Person, JOIN.LEFT_OUTER, on=(Face.person == Person.id))
        .where(Face.photo == photo_id)
        .order_by(Face.score.desc(), Face.id)
        .tuples()
    )
    return [PhotoFace(fid, (x, y, w, h), score, state or UNNAMED, pid, name)
            for fid, x, y, w, h, score, state, pid, name in rows]  # fmt: skip


def unnamed_label(group_id: int) -> str:
    return f"Unnamed group {group_id}"


def person_label(person_id: int) -> str:
    """The person's name, or how an unnamed group is called."""
    person = Person.get_or_none(Person.id == person_id)
    return (person.name if person else None) or unnamed_label(person_id)


def person_names() -> list[str]:
    return [n for (n,) in Person.select(Person.name).where(Person.name.is_null(False)).order_by(Person.name).tuples()]


def rejected_pairs() -> set[tuple[int, int]]:
    return set(FaceRejection.select(FaceRejection.face, FaceRejection.person).tuples())


@dataclass
class FaceVectorSet:
    """Descriptors with what the placing code needs of each face: who it is and how sure."""

    ids: np.ndarray  # face ids (int64)
    vectors: np.ndarray  # n x d float32
    person: np.ndarray  # person or group id, 0 for none (int64)
    state: np.ndarray  # 0 not placed, 1 unnamed, 2 suggested, 3 confirmed (int8)
    named: set[int]  # ids of the named persons


STATE_CODES = {None: 0, UNNAMED: 1, SUGGESTED: 2, CONFIRMED: 3}


def load_vectors(unplaced_only: bool = False) -> FaceVectorSet:
    """Every described face of a readable photo (100k faces: ~0.3 s); with `unplaced_only`, only
    the faces not placed yet (through the (person, state) index)."""
    where = FaceVector.vector.is_null(False) & (Photo.status == OK)
    if unplaced_only:
        where &= Face.person.is_null() & Face.person_state.is_null()
    rows = _rows(
        Face.select(Face.id, Face.person, Face.person_state, FaceVector.vector)
        .join(FaceVector, on=(FaceVector.face == Face.id))
        .join(Photo, on=(Face.photo == Photo.id))
        .where(where)
        .order_by(Face.id)
    )
    named = {pid for (pid,) in Person.select(Person.id).where(Person.name.is_null(False)).tuples()}
    if not rows:
        return FaceVectorSet(np.zeros(0, np.int64), np.zeros((0, 128), np.float32), np.zeros(0, np.int64),
                             np.zeros(0, np.int8), named)  # fmt: skip
    ids = np.fromiter((r[0] for r in rows), np.int64, len(rows))
    person = np.fromiter((r[1] or 0 for r in rows), np.int64, len(rows))
    state = np.fromiter((STATE_CODES.get(r[2], 0) for r in rows), np.int8, len(rows))
    vectors = np.frombuffer(b"".join(bytes(r[3]) for r in rows), np.float16).reshape(len(rows), -1).astype(np.float32)
    return FaceVectorSet(ids, vectors, person, state, named)


def unplaced_count() -> int:
    """Described faces not placed yet: the work `placing.update_people` has to do."""
    return (
        Face.select()
        .join(FaceVector, on=(FaceVector.face == Face.id))
        .where(Face.person_state.is_null() & FaceVector.vector.is_null(False))
        .count()
    )


# -- the user's decisions (writer thread) ------------------------------------------------------------
def _in_chunks(ids: Iterable[int]) -> Iterable[list[int]]:
    ids = list(ids)
    for lo in range(0, len(ids), _CHUNK):
        yield ids[lo : lo + _CHUNK]


def name_person(person_id: int, name: str) -> int:
    """Name a group (its faces become that person's, confirmed; a person of that name already there
    takes them), or rename a person. Returns the id of the named person."""
    person = Person.get_by_id(person_id)
    other = find_person(name)
    if person.name is not None:
        if other is not None and other.id != person.id:
            raise ValueError(f"there is already a person named {other.name!r}: merge the two instead")
        Person.update(name=clean_name(name)).where(Person.id == person.id).execute()
        return person.id
    target = other or person
    if other is None:
        Person.update(name=clean_name(name)).where(Person.id == person.id).execute()
    Face.update(person=target.id, person_state=CONFIRMED, suggest_distance=None).where(
        (Face.person == person.id) & _not_suggested()
    ).execute()
    if target.id != person.id:
        _move_rejections(person.id, target.id)
        drop_empty_groups()
    return target.id


def _move_rejections(source: int, target: int) -> None:
    for (face,) in FaceRejection.select(FaceRejection.face).where(FaceRejection.person == source).tuples():
        FaceRejection.insert(face=face, person=target, decided_at=_now()).on_conflict_ignore().execute()
    FaceRejection.delete().where(FaceRejection.person == source).execute()


def merge_persons(target_id: int, other_ids: Sequence[int]) -> int:
    """Merge persons or groups into one (only ever on the user's word). A named one gives the
    result its name: the first named among them, `target_id` first. Returns the merged person's id."""
    ids = list(dict.fromkeys([target_id, *other_ids]))
    persons = {p.id: p for p in Person.select().where(Person.id.in_(ids))}
    missing = [i for i in ids if i not in persons]
    if missing:
        raise ValueError(f"no person or group {missing[0]}")
    if len(ids) < 2:
        raise ValueError("merging needs two different persons or groups")
    target = next((persons[i] for i in ids if persons[i].name is not None), persons[ids[0]])
    state = CONFIRMED if target.name is not None else None
    for pid in ids:
        if pid == target.id:
            continue
        if state is not None:  # into a person: the faces the user merged are that person now
            Face.update(person=target.id, person_state=state, suggest_distance=None).where(
                (Face.person == pid) & _not_suggested()
            ).execute()
        Face.update(person=target.id).where(Face.person == pid).execute()
        _move_rejections(pid, target.id)
        Person.delete().where(Person.id == pid).execute()
    return target.id


def confirm_faces(person_id: int, face_ids: Sequence[int] | None = None) -> int:
    """Suggestions of a named person become confirmed (all of them, or those listed)."""
    if Person.get_by_id(person_id).name is None:
        raise ValueError(f"{person_id} is an unnamed group: name it to confirm its faces")
    where = (Face.person == person_id) & (Face.person_state == SUGGESTED)
    if face_ids is None:
        return Face.update(person_state=CONFIRMED, suggest_distance=None).where(where).execute()
    n = 0
    for chunk in _in_chunks(face_ids):
        n += Face.update(person_state=CONFIRMED, suggest_distance=None).where(where & Face.id.in_(chunk)).execute()
    return n


def reject_faces(person_id: int, face_ids: Sequence[int]) -> int:
    """ "Not this person": the faces leave the person or group, never to be suggested to (or grouped
    into) it again, and are placed afresh by the next update."""
    n = 0
    for chunk in _in_chunks(face_ids):
        mine = [f for (f,) in Face.select(Face.id).where(Face.id.in_(chunk) & (Face.person == person_id)).tuples()]
        for fid in mine:
            FaceRejection.insert(face=fid, person=person_id, decided_at=_now()).on_conflict_ignore().execute()
        if mine:
            n += Face.update(person=None, person_state=None, suggest_distance=None).where(Face.id.in_(mine)).execute()
            Person.update(cover_face=None).where((Person.id == person_id) & Person.cover_face.in_(mine)).execute()
    drop_empty_groups()
    return n


def assign_face(face_id: int, name: str) -> int:
    """The user says who this face is: confirmed, whatever was decided before. Returns the person id."""
    if Face.get_or_none(Face.id == face_id) is None:
        raise ValueError(f"no face {face_id}")
    person = person_named(name)
    FaceRejection.delete().where((FaceRejection.face == face_id) & (FaceRejection.person == person.id)).execute()
    Face.update(person=person.id, person_state=CONFIRMED, suggest_distance=None).where(Face.id == face_id).execute()
    drop_empty_groups()
    return person.id


def set_cover(person_id: int, face_id: int) -> None:
    Person.update(cover_face=face_id).where(Person.id == person_id).execute()


def delete_person(person_id: int) -> int:
    """Forget a person (or dissolve a group): its faces become unnamed and are placed afresh."""
    n = Face.update(person=None, person_state=None, suggest_distance=None).where(Face.person == person_id).execute()
    Person.delete().where(Person.id == person_id).execute()
    return n


# -- placing (writer thread) ---------------------------------------------------------------------------
Placement = tuple[int, int | None, str, float | None]  # (face, person or group, state, distance)


def _new_groups(count: int) -> list[int]:
    """Ids of `count` new unnamed groups, a few hundred rows a statement. Which id goes to which new
    group does not matter: they are all alike until faces are put in them."""
    ids: list[int] = []
    now = _now()
    for lo in range(0, count, 500):
        rows = [{"name": None, "created_at": now}] * min(500, count - lo)
        ids += [pid for (pid,) in Person.insert_many(rows).returning(Person.id).tuples().execute()]
    return ids


# One UPDATE ... FROM over a temporary table of placements: 100k faces placed in ~1 s, where as
# many single-row UPDATEs inside the writer's savepoint took 40 s (SQLite journals each statement).
# "face.id IN (SELECT ...)" has SQLite look the faces up by id (0.1 ms for one placement) where the
# join alone scanned every face (9 ms at 100k).
_PLACEMENTS = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS placement"
    " (face_id INTEGER PRIMARY KEY, person_id INTEGER, state TEXT, distance REAL)"
)
_APPLY_PLACEMENTS = f"""UPDATE face SET person_id = p.person_id, person_state = p.state, suggest_distance = p.distance
    FROM placement p WHERE face.id = p.face_id AND face.id IN (SELECT face_id FROM placement)
    AND (face.person_state IS NULL OR face.person_state <> '{CONFIRMED}')
    AND NOT EXISTS (SELECT 1 FROM face_rejection r WHERE r.face_id = face.id AND r.person_id = p.person_id)"""

# "id IN (SELECT ...)": the faces are looked up by id; a join would have SQLite scan every face
_PLACED_FACES = "SELECT photo_id, person_id FROM face WHERE id IN (SELECT face_id FROM placement)"


def apply_placements(placements: Sequence[Placement]) -> tuple[int, dict[int, int]]:
    """Store where the placing code put faces. A negative person number is a group to create (the
    same number, the same group). Faces the user confirmed or rejected for that person meanwhile
    are left alone. Returns how many faces moved, and the id each new group got."""
    named = {p for _, p, _, _ in placements if p is not None and p > 0}
    existing = {
        pid for chunk in _in_chunks(named) for (pid,) in Person.select(Person.id).where(Person.id.in_(chunk)).tuples()
    }
    wanted = sorted({p for _, p, _, _ in placements if p is not None and p < 0})
    fresh = dict(zip(wanted, _new_groups(len(wanted)), strict=True))
    rows = []
    for face, person, state, distance in placements:
        if person is not None and person < 0:
            person = fresh[person]
        elif person is not None and person not in existing:
            continue  # merged or deleted meanwhile: the face stays unplaced, placed next time
        rows.append((face, person, state, distance))
    database = Face._meta.database
    database.execute_sql(_PLACEMENTS)
    database.execute_sql("DELETE FROM placement")
    p = database.param
    for lo in range(0, len(rows), 5000):
        database.cursor().executemany(f"INSERT INTO placement VALUES ({p}, {p}, {p}, {p})", rows[lo : lo + 5000])
    before = database.execute_sql(_PLACED_FACES).fetchall()
    changes.note({photo for photo, _ in before}, PEOPLE)  # other workstations' People views follow
    moved = database.execute_sql(_APPLY_PLACEMENTS).rowcount
    database.execute_sql("DELETE FROM placement")
    drop_empty_groups({person for _, person in before if person is not None})
    return moved, fresh


def people_listing(include_loose: bool = False) -> list[dict[str, object]]:
    """`tessera people --json`: named persons (confirmed faces, then suggestions), then unnamed
    groups, each with its faces (boxes in displayed pixels); with `include_loose`, faces in no group
    last, under id null."""
    order = {s.id: i for i, s in enumerate(person_summaries())}
    names = dict(Person.select(Person.id, Person.name).tuples())
    faces: dict[int | None, list[dict[str, object]]] = {}
    where = Photo.status == OK
    if not include_loose:
        where &= Face.person.is_null(False)
    rows = (
        Face.select(Face.person, Face.id, Photo.path, Face.x, Face.y, Face.w, Face.h, Face.person_state)
        .join(Photo, on=(Face.photo == Photo.id))
        .where(where)
        .order_by(Face.person, Face.person_state, Face.id)
        .tuples()
    )
    for pid, fid, path, x, y, w, h, state in rows:
        face = {"face_id": fid, "photo": local_path(path), "box": [x, y, w, h], "state": state or UNNAMED}
        faces.setdefault(pid, []).append(face)
    listing = [{"id": pid, "name": names.get(pid), "faces": faces.get(pid, [])} for pid in sorted(order, key=order.get)]
    if include_loose and faces.get(None):
        listing.append({"id": None, "name": None, "faces": faces[None]})
    return listing

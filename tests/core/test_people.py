"""People through the real pipeline on ../shared/corpus/people (detector, descriptor, grouping): who
is who against identities.csv, and names as user data (re-analysis, rescans, moves, a changed
threshold), suggestions, "not this person", merging."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app.core.analysis.face_descriptor import dlib_frame
from app.core.catalog import people as catalog
from app.core.catalog import queries
from app.core.catalog.models import CONFIRMED, SUGGESTED, Face, FaceRejection, FaceVector, Person, Photo, StageState
from app.core.library import Library
from app.core.people import persons
from app.core.people.grouping import DEFAULT_THRESHOLD
from bench.faces_eval import iou
from bench.people_eval import MATCH_IOU, identities, pairwise


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Path:
    """corpus/people imported once, with the default settings; tests work on copies."""
    root = tmp_path_factory.mktemp("people") / "lib"
    with Library.open(root) as lib:
        report = lib.import_folders([corpus / "people"], processes=2)
        assert not report.failed
    return root


@pytest.fixture
def lib(imported: Path, tmp_path: Path) -> Iterator[Library]:
    root = tmp_path / "lib"
    shutil.copytree(imported, root)
    with Library.open(root, auto_backup=False) as opened:
        yield opened


def listed_persons(relative: Callable[[str], str]) -> dict[int, str]:
    """Face id -> the person identities.csv lists there (our box framed as dlib frames a face, one to
    one, best overlaps first). `relative` turns a photo's path into its name in identities.csv."""
    truth = identities()
    pairs = []
    for fid, x, y, w, h, path in Face.select(Face.id, Face.x, Face.y, Face.w, Face.h, Photo.path).join(Photo).tuples():
        rel = relative(path)
        left, top, right, bottom = dlib_frame((x, y, w, h))
        framed = [left, top, right - left, bottom - top]
        pairs += [(iou(framed, box), fid, rel, i, name) for i, (box, name) in enumerate(truth.get(rel, []))]
    out: dict[int, str] = {}
    used: set[tuple[str, int]] = set()
    for value, fid, rel, i, name in sorted(pairs, reverse=True):
        if value >= MATCH_IOU and fid not in out and (rel, i) not in used:
            out[fid] = name
            used.add((rel, i))
    return out


def in_corpus(corpus: Path) -> Callable[[str], str]:
    return lambda path: str(Path(path).relative_to(corpus / "people"))


def copied_from_kphotoalbum(path: str) -> str:
    return f"kphotoalbum/{Path(path).name}"


JESPER_AT_THE_BAR = ("bar55.jpg", "bar55_2.jpg", "cold_water.jpg", "pool_2.jpg")


def copy_kphotoalbum(tmp_path: Path, corpus: Path, names: tuple[str, ...]) -> Path:
    """Copies of KPhotoAlbum photos in tmp_path/photos (made if new), where a test may add and move files."""
    folder = tmp_path / "photos"
    folder.mkdir(exist_ok=True)
    for name in names:
        shutil.copy2(corpus / "people" / "kphotoalbum" / name, folder / name)
    return folder


def person_of(face_id: int) -> int | None:
    return Face.get_by_id(face_id).person_id


def face_of(listed: dict[int, str], name: str) -> list[int]:
    return sorted(fid for fid, who in listed.items() if who == name)


def test_grouping_finds_who_is_who_with_the_default_settings(lib: Library, corpus: Path) -> None:
    """Pairwise same-person precision >= 0.95 and recall >= 0.80 over the listed faces found (as
    bench/people_eval.py measures), from the groups the import itself made."""
    listed = listed_persons(in_corpus(corpus))
    assert len(listed) >= 45  # of the 56 listed faces: the detector finds most
    ids = sorted(listed)
    labels = [person_of(fid) or -fid for fid in ids]  # a face in no group is alone
    precision, recall, same, predicted = pairwise(labels, [listed[f] for f in ids])
    assert precision >= 0.95, (precision, recall, same, predicted)
    assert recall >= 0.80, (precision, recall, same, predicted)
    assert persons.threshold(lib) == DEFAULT_THRESHOLD
    # every described face was placed: in a group, or alone
    assert catalog.unplaced_count() == 0
    assert FaceVector.select().count() == Face.select().count()


def test_a_named_group_keeps_its_names_through_reanalysis_and_a_new_threshold(lib: Library, corpus: Path) -> None:
    listed = listed_persons(in_corpus(corpus))
    jesper = face_of(listed, "Jesper")
    group = person_of(jesper[0])
    assert group is not None
    person = persons.name(lib, group, "Jesper")
    named = {f.id for f in Face.select().where((Face.person == person) & (Face.person_state == CONFIRMED))}
    assert jesper[0] in named and len(named) >= 4
    # a re-run of detection and description: the same face rows, still Jesper
    lib.analyze(["faces", "descriptors"], force=True, processes=1)
    again = {f.id for f in Face.select().where((Face.person == person) & (Face.person_state == CONFIRMED))}
    assert again == named
    # a different grouping distance regroups unnamed faces only
    report = persons.set_threshold(lib, 0.3)
    assert report.regrouped and persons.threshold(lib) == 0.3
    assert {f.id for f in Face.select().where((Face.person == person) & (Face.person_state == CONFIRMED))} == named
    assert Person.get_by_id(person).name == "Jesper"


def test_names_survive_a_rescan_and_a_move(tmp_path: Path, corpus: Path) -> None:
    folder = copy_kphotoalbum(tmp_path, corpus, ("bar55.jpg", "bar55_2.jpg", "jesper.jpg", "anne_helene.jpg"))
    with Library.open(tmp_path / "lib") as lib:
        lib.import_folders([folder], processes=1)
        photo = Photo.get(Photo.filename == "jesper.jpg")
        face = Face.get(Face.photo == photo.id)
        persons.name_faces(lib, [face.id], "Jesper")
        (folder / "jesper.jpg").rename(folder / "moved.jpg")
        report = lib.import_folders([folder], processes=1)
        assert report.count("moved") == 1
        moved = Photo.get(Photo.filename == "moved.jpg")
        assert moved.id == photo.id
        kept = Face.get_by_id(face.id)
        assert kept.person.name == "Jesper" and kept.person_state == CONFIRMED
        assert lib.import_folders([folder], processes=1).unchanged == 4


def test_a_new_face_near_a_named_person_is_a_suggestion_until_confirmed(tmp_path: Path, corpus: Path) -> None:
    folder = copy_kphotoalbum(tmp_path, corpus, JESPER_AT_THE_BAR)
    with Library.open(tmp_path / "lib") as lib:
        lib.import_folders([folder], processes=1)
        listed = listed_persons(copied_from_kphotoalbum)
        jesper = face_of(listed, "Jesper")
        person = persons.name(lib, person_of(jesper[0]), "Jesper")
        assert all(Face.get_by_id(f).person_state == CONFIRMED for f in jesper)
        # a new photo of him arrives: asked, not decided
        copy_kphotoalbum(tmp_path, corpus, ("jesper_2.jpg",))
        lib.import_folders([folder], processes=1)
        new = Face.select().join(Photo).where(Photo.filename == "jesper_2.jpg")
        suggested = [f for f in new if f.person_id == person]
        assert suggested and all(f.person_state == SUGGESTED for f in suggested)
        summary = next(s for s in catalog.person_summaries() if s.id == person)
        assert summary.suggested == len(suggested) and summary.faces == len(jesper)
        # "not Jesper" for one, yes for the others: the no is remembered and never asked again
        no, yes = suggested[0], suggested[1:]
        persons.reject(lib, person, [no.id])
        assert FaceRejection.select().where((FaceRejection.face == no.id) & (FaceRejection.person == person)).exists()
        if yes:
            assert persons.confirm(lib, person) == len(yes)
        persons.set_threshold(lib, 1.4)  # everyone looks like everyone: still not suggested to him
        assert Face.get_by_id(no.id).person_id != person
        assert all(Face.get_by_id(f.id).person_state == CONFIRMED for f in yes)


def test_named_persons_are_merged_only_by_the_user(lib: Library) -> None:
    groups = [s for s in catalog.person_summaries() if s.name is None]
    a, b = groups[0].id, groups[1].id
    persons.name(lib, a, "First")
    persons.name(lib, b, "Second")
    first = {f.id for f in Face.select().where((Face.person == a) & (Face.person_state == CONFIRMED))}
    persons.set_threshold(lib, 1.4)  # a distance at which every face is one group
    assert {f.id for f in Face.select().where((Face.person == a) & (Face.person_state == CONFIRMED))} == first
    assert Person.get_by_id(b).name == "Second"
    unnamed = {s.id for s in catalog.person_summaries() if s.name is None}
    assert len(unnamed) <= 1
    # the user merges: one person, every face confirmed, the other person gone
    merged = persons.merge(lib, [a, b])
    assert merged == a and Person.get_or_none(Person.id == b) is None
    assert Face.select().where((Face.person == a) & (Face.person_state == CONFIRMED)).count() >= len(first) + 2


def test_naming_a_group_with_an_existing_name_joins_that_person(lib: Library) -> None:
    groups = [s for s in catalog.person_summaries() if s.name is None]
    anne = persons.name(lib, groups[0].id, "Anne")
    joined = persons.name(lib, groups[1].id, "anne")
    assert joined == anne and Person.get_or_none(Person.id == groups[1].id) is None
    assert Face.select().where((Face.person == anne) & (Face.person_state == CONFIRMED)).count() == (
        groups[0].faces + groups[1].faces
    )
    with pytest.raises(ValueError, match="already a person"):
        other = persons.name(lib, groups[2].id, "Bob")
        persons.name(lib, other, "Anne")


def test_the_descriptors_stage_is_versioned_and_resumable(lib: Library) -> None:
    assert StageState.select().where(StageState.stage == "descriptors").count() == Photo.select().count()
    assert lib.analyze(processes=1).done == 0  # nothing left to do
    # faces without a descriptor (kept through a detector re-run, or read from XMP) get one next time
    some = Face.select().first()
    FaceVector.delete().where(FaceVector.face == some.id).execute()
    stats = lib.analyze(processes=1)
    assert stats.done == 1 and FaceVector.get_or_none(FaceVector.face == some.id) is not None
    vector = FaceVector.get(FaceVector.face == some.id)
    assert len(vector.vector) == 256  # 128 float16


def test_people_on_both_catalog_engines(tmp_path: Path, corpus: Path, catalog_url: str | None) -> None:
    """Every people query and write runs on SQLite and PostgreSQL: grouping's placements, naming,
    suggestions, "not this person", a new distance, the person filter and the listing."""
    folder = copy_kphotoalbum(tmp_path, corpus, JESPER_AT_THE_BAR)
    with Library.open(tmp_path / "lib") as lib:
        lib.import_folders([folder], processes=1)
        groups = [s for s in catalog.person_summaries() if s.name is None]
        assert groups and catalog.unplaced_count() == 0
        jesper = persons.name(lib, groups[0].id, "Jesper")
        mine = _faces(jesper)
        assert len(mine) == groups[0].faces
        photos = {f.photo_id for f in Face.select().where(Face.id.in_(list(mine)))}
        assert set(queries.search_ids(queries.Filter(person_ids=(jesper,)))) == photos
        persons.reject(lib, jesper, [min(mine)])
        assert _faces(jesper) == mine - {min(mine)}
        persons.set_threshold(lib, 1.4)
        assert _faces(jesper) == mine - {min(mine)} and Face.get_by_id(min(mine)).person_id != jesper
        listing = catalog.people_listing()
        assert listing[0]["name"] == "Jesper" and {f["face_id"] for f in listing[0]["faces"]} >= mine - {min(mine)}


def _faces(person_id: int) -> set[int]:
    return {f.id for f in Face.select().where((Face.person == person_id) & (Face.person_state == CONFIRMED))}

"""Auto-tagging through the catalog: categorization records, the threshold, the user's own and
rejected tags, re-tagging without the model, and "find similar" on the stored features."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from app.cli import main as cli_main
from app.core.analysis import efficientnet
from app.core.catalog.models import AUTO, USER, Categorization, Photo, PhotoTag, StageState, Tag
from app.core.catalog.present import photo_json
from app.core.catalog.store import DEFAULT_AUTO_TAGGING
from app.core.library import Library
from app.core.records import FACE_ENGINE
from app.core.records import TAG_ENGINE as ENGINE
from app.core.similar import SimilarityIndex
from app.core.tags import add_user_tag, remove_tag, retag_library

PHOTOS = {
    "cat.jpg": "dupes/g01_chelsea.jpg",
    "cat_mirror.jpg": "dupes/g01_chelsea_mirror.jpg",
    "coffee.jpg": "dupes/g02_coffee.jpg",
    "dog.jpg": "faces/kpa_donna_2.jpg",
    "obama.jpg": "faces/obama.jpg",
    "poker.jpg": "faces/group_poker.jpg",
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Path:
    dst = tmp_path_factory.mktemp("photos")
    for name, rel in PHOTOS.items():
        shutil.copy2(corpus / rel, dst / name)
    return dst


@pytest.fixture
def lib(tmp_path: Path, folder: Path, catalog_url: str | None):
    """On SQLite and on PostgreSQL (catalog_url sets TESSERA_CATALOG)."""
    with Library.open(tmp_path / "lib") as library:
        report = library.import_folders([folder], processes=2)
        assert not report.failed and not report.run.stage_failures, report.run.stage_failures
        yield library


def _photo(folder: Path, name: str) -> Photo:
    return Photo.get(Photo.path == str(folder / name))


def _auto_tags(photo: Photo) -> dict[str, float]:
    rows = PhotoTag.select(PhotoTag, Tag).join(Tag).where((PhotoTag.photo == photo.id) & (PhotoTag.source == AUTO))
    return {r.tag.name: r.confidence for r in rows}


def test_import_tags_photos_as_a_person_would(lib: Library, folder: Path) -> None:
    assert lib.auto_tagging == DEFAULT_AUTO_TAGGING
    expected = {"cat.jpg": {"cat", "animal"}, "coffee.jpg": {"coffee", "food"}, "dog.jpg": {"dog", "animal"},
                "obama.jpg": {"person", "portrait", "suit"}, "poker.jpg": {"person", "people", "group"}}  # fmt: skip
    for name, tags in expected.items():
        shown = photo_json(_photo(folder, name))
        assert tags <= set(shown["tags"]), (name, shown["tags"])
        record = shown["info"]["categorization"][ENGINE]
        assert record["status"] == "complete"
        confidences = [m["confidence"] for m in record["data"]]
        assert confidences == sorted(confidences, reverse=True) and all(0 < c <= 1 for c in confidences)
        applied = {m["tag"] for m in record["data"] if m["confidence"] >= DEFAULT_AUTO_TAGGING}
        faces = {m["tag"] for m in shown["info"]["categorization"][FACE_ENGINE]["data"]}
        assert set(shown["tags"]) == applied | faces  # exactly the matches above the threshold
    assert "dog" not in photo_json(_photo(folder, "cat.jpg"))["tags"]
    assert photo_json(_photo(folder, "cat.jpg"))["info"]["categorization"][FACE_ENGINE] == {
        "status": "complete",
        "data": [],
    }


def test_threshold_change_retags_without_the_model(
    lib: Library, folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cat = _photo(folder, "cat.jpg")
    stamps = list(StageState.select(StageState.photo, StageState.updated_at).where(StageState.stage == "tags").tuples())

    def no_model(*args: object) -> None:
        raise AssertionError("the model ran for a threshold change")

    monkeypatch.setattr(efficientnet.Tagger, "tag", no_model)
    lib.close()
    code = cli_main(["--library", str(lib.root), "analyze", "--stages", "tags", "--auto-tagging", "0.95"])
    assert code == 0
    out = capsys.readouterr().out
    assert "re-applied to 6 photos" in out and "analyzed 0 photos" in out
    with Library.open(lib.root) as again:
        assert again.auto_tagging == 0.95
        assert _auto_tags(cat) == {}  # the cat is "only" 93 % sure
        assert set(_auto_tags(_photo(folder, "poker.jpg"))) == set()  # face tags are 0.9
        retag_library(again, 0.1)
        low = _auto_tags(cat)
        assert {"cat", "egyptian cat", "tabby"} <= set(low) and min(low.values()) >= 0.1
        stamps_after = StageState.select(StageState.photo, StageState.updated_at).where(StageState.stage == "tags")
        assert list(stamps_after.tuples()) == stamps


def test_user_tags_survive_and_rejected_auto_tags_stay_rejected(lib: Library, folder: Path) -> None:
    cat = _photo(folder, "cat.jpg")
    add_user_tag(lib, [cat.id], "chelsea")
    add_user_tag(lib, [cat.id], "cat")  # the user's own "cat" besides the auto one
    remove_tag(lib, [cat.id], "mammal")  # an auto tag the user does not want
    for threshold in (0.99, 0.05, DEFAULT_AUTO_TAGGING):
        retag_library(lib, threshold)
        assert "mammal" not in _auto_tags(cat)
        users = PhotoTag.select(PhotoTag, Tag).join(Tag).where((PhotoTag.photo == cat.id) & (PhotoTag.source == USER))
        assert {r.tag.name for r in users} == {"chelsea", "cat"}
    assert "animal" in _auto_tags(cat)
    lib.import_folders([folder.parent / folder.name])  # a rescan keeps all of it
    assert "mammal" not in _auto_tags(cat) and "chelsea" in photo_json(cat)["tags"]


def test_find_similar_puts_the_look_alike_first(lib: Library, folder: Path) -> None:
    index = SimilarityIndex.load()
    assert len(index) == len(PHOTOS) and index.vectors.shape[1] == 1280
    hits = index.query(_photo(folder, "cat.jpg").id, top=3)
    assert hits[0][0] == _photo(folder, "cat_mirror.jpg").id and hits[0][1] > 0.9
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    assert _photo(folder, "cat.jpg").id not in [pid for pid, _ in hits]


def test_pending_until_analyzed_and_failed_is_recorded(tmp_path: Path, folder: Path) -> None:
    with Library.open(tmp_path / "lib") as lib:
        lib.import_folders([folder], analyze=False)
        shown = photo_json(_photo(folder, "coffee.jpg"))
        assert shown["info"]["categorization"][ENGINE] == {"status": "pending", "data": []}
        assert shown["tags"] == []
        lib.analyze(["tags"], processes=1)
        assert photo_json(_photo(folder, "coffee.jpg"))["info"]["categorization"][ENGINE]["status"] == "complete"
        # faces not run yet: its engine is still pending, and the tags stage did not need it
        assert photo_json(_photo(folder, "coffee.jpg"))["info"]["categorization"][FACE_ENGINE]["status"] == "pending"


def test_changed_file_drops_old_tags(tmp_path: Path, folder: Path, corpus: Path) -> None:
    work = tmp_path / "work"
    shutil.copytree(folder, work)
    with Library.open(tmp_path / "lib") as lib:
        lib.import_folders([work])
        target = work / "coffee.jpg"
        assert "coffee" in photo_json(_photo(work, "coffee.jpg"))["tags"]
        shutil.copyfile(corpus / "faces/kpa_donna_2.jpg", target)  # same name, now a dog
        lib.import_folders([work])
        shown = photo_json(_photo(work, "coffee.jpg"))
        assert "dog" in shown["tags"] and "coffee" not in shown["tags"]
        assert Categorization.select().where(Categorization.photo == _photo(work, "coffee.jpg").id).count() == 2
        assert json.dumps(shown)  # still serializable

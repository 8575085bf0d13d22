"""Tagging in the GUI, driven as a person would: the threshold in Preferences, the tags tree with
counts and confidences, Find Similar and Export XMP. Photos are copies of the corpus, analyzed for
real (the tags stage runs the classifier)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt

from app.core import tags as tag_ops
from app.core.catalog import facets
from app.core.catalog.models import AUTO, Categorization, Feature, Photo, PhotoTag, RejectedTag, Tag
from app.core.records import STAGES
from app.core.similar import SimilarityIndex
from app.core.xmp.sidecars import read_sidecar
from app.gui.main_window import SIMILAR_TOP, MainWindow
from tests.gui.conftest import JOB_TIMEOUT_MS, run_import

PHOTOS = ("g00_astronaut.jpg", "g00_astronaut_q40.jpg", "g01_chelsea.jpg", "g01_chelsea_mirror.jpg",
          "g02_coffee.jpg", "g02_coffee_gray.jpg", "g03_rocket.jpg", "g03_rocket_crop16x9.jpg",
          "f03_blue_sky.jpg")  # fmt: skip


@pytest.fixture
def analyzed(qtbot, window, corpus: Path, tmp_path: Path):  # -> MainWindow
    assert "tags" in STAGES
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in PHOTOS:
        shutil.copy(corpus / "dupes" / name, folder / name)
    run_import(qtbot, window, folder)
    assert Feature.select().count() == len(PHOTOS)
    return window


def _select(win, photo_id: int) -> None:
    row = win.model.row_of(photo_id)
    assert row is not None
    win.grid.selectionModel().setCurrentIndex(win.model.index(row), QItemSelectionModel.SelectionFlag.ClearAndSelect)


def _expected_auto_tags(threshold: float) -> set[tuple[int, str, float]]:
    """What apply_auto_tags must leave, worked out from the stored categorizations."""
    rejected = set(RejectedTag.select(RejectedTag.photo, Tag.name).join(Tag).tuples())
    best: dict[tuple[int, str], float] = {}
    for pid, data in (
        Categorization.select(Categorization.photo, Categorization.data_json)
        .where(Categorization.status == "complete")
        .tuples()
    ):
        for m in json.loads(data or "[]"):
            key = (pid, m["tag"])
            if m["confidence"] >= threshold and (pid, m["tag"]) not in rejected:
                best[key] = max(best.get(key, 0.0), m["confidence"])
    return {(pid, name, conf) for (pid, name), conf in best.items()}


def _auto_rows() -> set[tuple[int, str, float]]:
    rows = PhotoTag.select(PhotoTag.photo, Tag.name, PhotoTag.confidence).join(Tag).where(PhotoTag.source == AUTO)
    return set(rows.tuples())


def test_threshold_in_preferences_retags_library(qtbot, analyzed) -> None:
    win = analyzed
    assert _auto_rows() == _expected_auto_tags(win.lib.auto_tagging)
    # the user rejects one auto tag first: a new threshold must not bring it back
    pid, name, _ = sorted(_auto_rows())[0]
    tag_ops.remove_tag(win.lib, [pid], name)

    dialog = win.open_preferences()
    dialog.slider.setValue(10)  # the slider drives the spin box and the preview
    assert dialog.threshold() == 0.10
    expected = _expected_auto_tags(0.10)
    assert len(expected) > len(_auto_rows())
    photos = len({p for p, _, _ in expected})
    assert f"{len(expected):,} automatic tags on {photos:,} photos" in dialog.preview_label.text()
    with qtbot.waitSignal(win.runner.finished, timeout=JOB_TIMEOUT_MS):
        dialog.accept()
    assert win.lib.auto_tagging == 0.10
    assert _auto_rows() == expected and (pid, name) not in {(p, n) for p, n, _ in expected}
    # the sidebar shows the new tags, with count and mean confidence
    for t in facets.tag_summaries():
        item = win.sidebar.find("tag", t.name)
        assert item is not None
        confs = [c for p, n, c in expected if n == t.name]
        assert item.text(1) == f"{t.photos:,} · {sum(confs) / len(confs):.0%}"
        assert item.font(0).italic()  # only the tagger says so

    dialog = win.open_preferences()
    dialog.spin.setValue(0.9)
    dialog.reject()  # Cancel changes nothing
    assert win.lib.auto_tagging == 0.10 and _auto_rows() == expected


def test_sidebar_marks_user_tags_and_nests_children(qtbot, analyzed) -> None:
    win = analyzed
    ids = win.model.ids()
    tag_ops.add_user_tag(win.lib, ids[:2], "apollo")
    tag_ops.retag_library(win.lib, 0.05)  # every stored match: parents and their children
    win.sidebar.refresh()
    mine = win.sidebar.find("tag", "apollo")
    assert mine is not None and mine.text(1) == "2" and not mine.font(0).italic()
    assert mine.parent() is win.sidebar.sections["Tags"]
    summaries = {t.name: t for t in facets.tag_summaries()}
    nested = facets.tag_tree(list(summaries))
    assert nested, "at 5 % some ImageNet class shows with its parent tag"
    for child, parent in nested.items():
        assert win.sidebar.find("tag", child).parent() is win.sidebar.find("tag", parent)
    for name, t in summaries.items():
        assert win.sidebar.find("tag", name).text(1).startswith(f"{t.photos:,}")


def test_find_similar_orders_grid_like_the_index(qtbot, analyzed, monkeypatch) -> None:
    win = analyzed
    astronaut = Photo.get(Photo.filename == "g00_astronaut.jpg").id
    _select(win, astronaut)
    assert win.find_similar()
    hits = SimilarityIndex.load().query(astronaut, SIMILAR_TOP)
    assert win.model.ids() == [astronaut] + [pid for pid, _ in hits]
    assert Photo.get_by_id(win.model.ids()[1]).filename == "g00_astronaut_q40.jpg"  # its re-compressed copy
    assert win.filter_bar.similar_banner.isVisible()
    assert "Similar to g00_astronaut.jpg" in win.filter_bar.similar_label.text()
    assert win.grid.currentIndex().row() == 0
    # the filter narrows the similar photos but keeps their order
    win.filter_bar.text.setText("chelsea")
    qtbot.waitUntil(lambda: win.model.rowCount() == 2, timeout=3000)
    chelsea = [pid for pid, _ in hits if Photo.get_by_id(pid).filename.startswith("g01_chelsea")]
    assert win.model.ids() == chelsea
    win.filter_bar.similar_clear.click()
    assert not win.filter_bar.similar_banner.isVisible() and win.model.similar_to is None
    qtbot.waitUntil(lambda: win.model.rowCount() == 2, timeout=3000)  # back to the text filter alone

    # a photo without a feature yet: a clear message, the grid unchanged
    told: list[str] = []
    monkeypatch.setattr("app.gui.main_window.QMessageBox.information", lambda _p, _t, text: told.append(text))
    win.filter_bar.reset()
    qtbot.waitUntil(lambda: win.model.rowCount() == len(PHOTOS), timeout=3000)
    sky = Photo.get(Photo.filename == "f03_blue_sky.jpg").id
    win.lib.writer.call(lambda: Feature.delete().where(Feature.photo == sky).execute())
    win._similarity = None
    _select(win, sky)
    before = win.model.ids()
    assert not win.find_similar()
    assert told and "f03_blue_sky.jpg has not been analyzed for similarity" in told[0]
    assert win.model.ids() == before and not win.filter_bar.similar_banner.isVisible()


def _rocket_tagged(win: MainWindow, name: str) -> Photo:
    """Selects the rocket photo and gives it a tag through the inspector, as a person would."""
    rocket = Photo.get(Photo.filename == "g03_rocket.jpg")
    _select(win, rocket.id)
    win.inspector.tag_edit.setText(name)
    win.inspector._add_tag()
    return rocket


def test_export_xmp_action_and_auto_write_setting(qtbot, analyzed) -> None:
    win = analyzed
    rocket = _rocket_tagged(win, "launch")
    sidecar = Path(rocket.path + ".xmp")
    assert not sidecar.exists()  # auto-write is off by default
    with qtbot.waitSignal(win.runner.finished, timeout=JOB_TIMEOUT_MS):
        assert win.export_xmp()
    expected = {n for (n,) in PhotoTag.select(Tag.name).join(Tag).where(PhotoTag.photo == rocket.id).tuples()}
    assert set(read_sidecar(sidecar).keywords) == expected and "launch" in expected
    assert [p.name for p in Path(rocket.path).parent.glob("*.xmp")] == [sidecar.name]  # the selection only

    dialog = win.open_preferences()
    dialog.auto_write.setChecked(True)
    dialog.accept()
    assert win.lib.auto_write_sidecars
    win.inspector.tag_edit.setText("moon")
    win.inspector._add_tag()
    assert "moon" in read_sidecar(sidecar).keywords


def test_removing_the_filtered_tag_takes_the_photo_off_the_grid(qtbot, analyzed) -> None:
    win = analyzed
    rocket = _rocket_tagged(win, "launchpad")
    win.filter_bar.add_tag("launchpad")
    qtbot.waitUntil(lambda: win.model.ids() == [rocket.id])
    tag_list = win.inspector.tags
    row = next(i for i in range(tag_list.count()) if tag_list.item(i).data(Qt.ItemDataRole.UserRole) == "launchpad")
    tag_list.setCurrentRow(row)
    win.inspector._remove_tag()
    assert not PhotoTag.select().join(Tag).where(Tag.name == "launchpad").exists()
    assert win.model.ids() == []  # at once, as the catalog says

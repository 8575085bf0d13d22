"""The duplicates review window, driven from the keyboard as a person would: the clusters it lists
are the engine's (library_clusters, same as `tessera dupes`), K/D/N decide, trashed files land in a
real (temporary) system trash and come back with Undo; the threshold slider re-clusters."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from app.core import dupes, find_duplicates
from app.core.catalog.models import NotDuplicate, Photo, TrashRecord
from app.gui import dupes_view
from app.gui.dupes_view import DupesWindow, TrashPlan
from app.gui.inspector import _size as human_size
from tests.gui.conftest import run_import

# a few groups of ../shared/corpus/dupes: similar copies (resized, rotated, mirrored, re-encoded),
# one exact copy and a dark/light design pair that must not be matched
SUBSET = ("g18_", "g24_", "x00_", "n00", "g03_")


def _copy(corpus: Path, dest: Path, prefixes: tuple[str, ...] = SUBSET, names: tuple[str, ...] = ()) -> Path:
    dest.mkdir(parents=True)
    for f in sorted((corpus / "dupes").iterdir()):
        if f.name.startswith(prefixes) or f.name in names:
            shutil.copy2(f, dest)  # tests only ever trash these copies, never the corpus
    return dest


def _analyze(window, folder: Path, stages: tuple[str, ...] = ("thumbnails", "hashes")) -> None:
    """Import with only the stages duplicates need: seconds instead of the full pipeline (the
    edited tier also needs the classifier's features: the tags stage)."""
    window.lib.import_folders([folder], analyze=False)
    window.lib.analyze(stages=list(stages))
    window.lib.writer.flush()
    window.refresh_all()


def _ids(clusters: list[dupes.Cluster]) -> list[list[int]]:
    return [[m.id for m in c.members] for c in clusters]


def _name(photo_id: int) -> str:
    return Photo.get_by_id(photo_id).filename


@pytest.fixture
def review(qtbot, window) -> Iterator[Callable[[], DupesWindow]]:
    opened: list[DupesWindow] = []

    def open_review() -> DupesWindow:
        dv = window.review_duplicates()
        with qtbot.waitSignal(dv.clusters_changed, timeout=30_000):
            pass  # the first clustering runs on a background thread
        opened.append(dv)
        return dv

    yield open_review
    for dv in opened:
        if window.dupes_window is dv:
            dv.close()


def _reclustered(qtbot, dv: DupesWindow, action: Callable[[], object]) -> None:
    with qtbot.waitSignal(dv.clusters_changed, timeout=30_000):
        action()


def _go_to(qtbot, dv: DupesWindow, filename: str) -> dupes.Cluster:
    """Down-arrow through the list until the cluster holding `filename` is shown."""
    qtbot.keyClick(dv.cluster_list, Qt.Key.Key_Home)
    dv.cluster_list.setCurrentRow(0)
    for _ in range(len(dv.clusters)):
        c = dv.current_cluster()
        assert c is not None
        if any(_name(m.id) == filename for m in c.members):
            return c
        row = dv.cluster_list.currentRow()
        qtbot.keyClick(dv.cluster_list, Qt.Key.Key_Down)
        assert dv.cluster_list.currentRow() == row + 1
    raise AssertionError(f"no cluster with {filename}")


def test_list_matches_the_engine_and_differences_are_highlighted(qtbot, window, review, corpus, tmp_path) -> None:
    _analyze(window, _copy(corpus, tmp_path / "photos"))
    dv = review()
    expected = find_duplicates.library_clusters(window.lib)
    assert len(expected) >= 4
    assert _ids(dv.clusters) == _ids(expected)
    assert dv.cluster_list.count() == len(expected)
    total = sum(c.reclaimable_bytes for c in expected)
    assert dv.summary.text() == (
        f"{len(expected)} clusters · {sum(len(c.members) for c in expected)} photos · {human_size(total)} reclaimable"
    )
    # the dark and light versions of one design are different pictures
    clustered = {_name(m.id) for c in expected for m in c.members}
    assert not clustered & {"n00d_gnome_licorice_d.jpg", "n00l_gnome_licorice_l.jpg"}

    c = _go_to(qtbot, dv, "g24_string_resize25.jpg")
    by_name = {_name(m.id): m.id for m in c.members}
    assert _name(c.keeper) == "g24_string.jpg"
    keeper_col = dv.compare.column_of(c.keeper)
    small = dv.compare.column_of(by_name["g24_string_resize25.jpg"])
    gray = dv.compare.column_of(by_name["g24_string_gray.jpg"])
    assert keeper_col and small and gray
    assert keeper_col.badge.text() == "★  KEEP" and small.badge.text() == "TRASH"
    assert not any(v.differs for v in keeper_col.values.values())
    # a quarter-size copy: pixels and bytes differ from the keeper; the gray copy has the same pixels
    assert small.values["Pixels"].differs and small.values["Pixels"].text.startswith("350 × 230")
    assert small.values["File size"].differs
    assert not small.values["Folder"].differs
    assert not gray.values["Pixels"].differs and gray.values["File size"].differs
    assert c.keeper_reason in dv.compare.header.text()

    exact = _go_to(qtbot, dv, "x00_warty-final-ubuntu.png")
    assert exact.tier == dupes.EXACT
    other = next(m.id for m in exact.members if m.id != exact.keeper)
    col = dv.compare.column_of(other)
    assert col is not None
    assert col.values["Match"].text == "identical file (same bytes)"
    assert not col.values["Pixels"].differs and not col.values["File size"].differs
    assert col.values["File name"].differs


def test_keyboard_review_keeps_trashes_and_remembers(qtbot, window, review, corpus, tmp_path, trash_dir, monkeypatch):
    run_import(qtbot, window, _copy(corpus, tmp_path / "photos"))  # through the GUI, full analysis
    window.lib.writer.flush()
    dv = review()
    assert _ids(dv.clusters) == _ids(find_duplicates.library_clusters(window.lib))
    plans: list[TrashPlan] = []
    monkeypatch.setattr(dupes_view, "confirm_trash", lambda _parent, plan: plans.append(plan) or True)

    # pick another copy than the proposed keeper with → and K, then D trashes the rest
    c = _go_to(qtbot, dv, "g18_obama.jpg")
    assert c.members[0].id == c.keeper
    qtbot.keyClick(dv.cluster_list, Qt.Key.Key_Right)
    qtbot.keyClick(dv.cluster_list, Qt.Key.Key_Right)
    chosen = c.members[2].id
    assert dv.focused_id() == chosen
    qtbot.keyClick(dv.cluster_list, Qt.Key.Key_K)
    assert dv.keeper_of(c) == chosen != c.keeper
    assert dv.compare.column_of(chosen).badge.text() == "★  KEEP"
    others = {m.id: Photo.get_by_id(m.id).path for m in c.members if m.id != chosen}
    count = len(dv.clusters)
    _reclustered(qtbot, dv, lambda: qtbot.keyClick(dv.cluster_list, Qt.Key.Key_D))

    # the dry run listed exactly what went, with its size
    assert len(plans) == 1
    assert plans[0].keeper == Photo.get_by_id(chosen).path
    assert sorted(p for p, _ in plans[0].files) == sorted(others.values())
    assert plans[0].total == sum(Path(p).stat().st_size for p in (trash_dir / "files").iterdir())
    assert Path(Photo.get_by_id(chosen).path).exists()
    assert Photo.get_by_id(chosen).status == "ok"
    for pid, path in others.items():
        assert not Path(path).exists()
        assert (trash_dir / "files" / Path(path).name).exists(), "in the system trash, not deleted"
        assert Photo.get_by_id(pid).status == "trashed"
    assert {r.photo_id for r in TrashRecord.select()} == set(others)
    assert len(dv.clusters) == count - 1
    assert _ids(dv.clusters) == _ids(find_duplicates.library_clusters(window.lib))
    assert "Moved 4 files to the trash" in dv.message.text() and dv.undo_button.isVisible()

    # Undo puts them back and the cluster returns
    _reclustered(qtbot, dv, lambda: qtbot.mouseClick(dv.undo_button, Qt.MouseButton.LeftButton))
    for pid, path in others.items():
        assert Path(path).exists() and Photo.get_by_id(pid).status == "ok"
    assert _ids(dv.clusters) == _ids(find_duplicates.library_clusters(window.lib))
    assert len(dv.clusters) == count

    # N: different pictures, remembered per pair, never proposed together again
    c = _go_to(qtbot, dv, "g03_rocket.jpg")
    ids = sorted(m.id for m in c.members)
    qtbot.keyClick(dv.cluster_list, Qt.Key.Key_N)
    assert len(dv.clusters) == count - 1  # gone at once, before the re-cluster confirms it
    stored = set(NotDuplicate.select(NotDuplicate.a, NotDuplicate.b).tuples())
    assert stored == {(a, b) for i, a in enumerate(ids) for b in ids[i + 1 :]}
    _reclustered(qtbot, dv, lambda: dv.request(reload=True))
    after = find_duplicates.library_clusters(window.lib)
    assert _ids(dv.clusters) == _ids(after)
    assert all(len(set(ids) & {m.id for m in cl.members}) <= 1 for cl in after)


def test_cancelled_dry_run_moves_nothing(qtbot, window, review, corpus, tmp_path, trash_dir, monkeypatch) -> None:
    _analyze(window, _copy(corpus, tmp_path / "photos", ("x00_",)))
    dv = review()
    monkeypatch.setattr(dupes_view, "confirm_trash", lambda _parent, _plan: False)
    qtbot.keyClick(dv.cluster_list, Qt.Key.Key_D)
    assert len(dv.clusters) == 1
    assert all(Path(p.path).exists() and p.status == "ok" for p in Photo.select())
    assert not TrashRecord.select().exists()
    assert dv.message.text() == "Nothing moved."


def test_threshold_slider_and_options_recluster_live(qtbot, window, review, corpus, tmp_path) -> None:
    _analyze(window, _copy(corpus, tmp_path / "photos"))
    dv = review()
    assert dv.slider.value() == dupes.DEFAULT_THRESHOLD
    _reclustered(qtbot, dv, lambda: dv.rotations.setChecked(False))
    assert _ids(dv.clusters) == _ids(find_duplicates.library_clusters(window.lib, rotations=False))
    _reclustered(qtbot, dv, lambda: dv.slider.setValue(0))
    strict = find_duplicates.library_clusters(window.lib, threshold=0, rotations=False)
    assert _ids(dv.clusters) == _ids(strict)
    _reclustered(qtbot, dv, lambda: dv.slider.setValue(10))
    loose = find_duplicates.library_clusters(window.lib, threshold=10, rotations=False)
    assert _ids(dv.clusters) == _ids(loose)
    assert len(strict) < len(loose), "the corpus subset has copies between 1 and 10 bits apart"
    assert dv.cluster_list.count() == len(loose)
    # ] raises the threshold from the keyboard
    _reclustered(qtbot, dv, lambda: qtbot.keyClick(dv.cluster_list, Qt.Key.Key_BracketRight))
    assert dv.slider.value() == 11
    assert _ids(dv.clusters) == _ids(find_duplicates.library_clusters(window.lib, threshold=11, rotations=False))
    _reclustered(qtbot, dv, lambda: dv.tier_combo.setCurrentIndex(dv.tier_combo.findData(dupes.EXACT)))
    assert _ids(dv.clusters) == _ids(find_duplicates.library_clusters(window.lib, tiers=dupes.EXACT))
    assert {c.tier for c in dv.clusters} == {dupes.EXACT}
    assert not dv.slider.isEnabled()


def test_edited_copy_shows_where_the_crop_lies_on_the_keeper(qtbot, window, review, corpus, tmp_path) -> None:
    names = ("g20_calla.jpg", "g20_calla_crop16x9.jpg", "g02_coffee.jpg", "g02_coffee_watermark.jpg")
    _analyze(window, _copy(corpus, tmp_path / "photos", (), names), ("thumbnails", "hashes", "tags"))
    dv = review()
    assert _ids(dv.clusters) == _ids(find_duplicates.library_clusters(window.lib))
    c = _go_to(qtbot, dv, "g20_calla_crop16x9.jpg")
    assert c.tier == dupes.EDITED and _name(c.keeper) == "g20_calla.jpg"
    crop = next(m for m in c.members if m.id != c.keeper)
    assert c.keeper_reason.startswith("uncropped: ") and c.keeper_reason in dv.compare.header.text()
    # the keeper's view frames where the 16:9 copy lies, in the keeper's pixels, named with its edit
    keeper_col, crop_col = dv.compare.column_of(c.keeper), dv.compare.column_of(crop.id)
    assert keeper_col and crop_col and not crop_col.region_items
    (frame,) = keeper_col.region_items
    x, y, w, h = crop.transform.crop
    assert frame.rect().getRect() == (x, y, w, h) and x == 0 and abs(w - 1400) <= 3 and abs(y - 59) <= 3
    label = frame.childItems()[0]
    assert label.text() == "crop: g20_calla_crop16x9.jpg" and frame.scene() is keeper_col.view.scene()
    match = crop_col.values["Match"].text
    assert match.startswith("edited: crop, ") and match.endswith("% of the keeper")
    qtbot.keyClick(dv.cluster_list, Qt.Key.Key_Right)  # the crop in focus: its frame is drawn solid
    assert keeper_col.region_items[0].pen().style() == Qt.PenStyle.SolidLine
    qtbot.waitUntil(lambda: not keeper_col.view.pixmap_item.pixmap().isNull(), timeout=10_000)
    dv.grab().save(str(tmp_path / "edited_review.png"))
    # a watermarked copy: the same frame, the edit named
    c = _go_to(qtbot, dv, "g02_coffee_watermark.jpg")
    marked = dv.compare.column_of(next(m.id for m in c.members if m.id != c.keeper))
    assert "watermark" in marked.values["Match"].text
    # the edited tier alone, from the menu
    _reclustered(qtbot, dv, lambda: dv.tier_combo.setCurrentIndex(dv.tier_combo.findData(dupes.EDITED)))
    assert _ids(dv.clusters) == _ids(find_duplicates.library_clusters(window.lib, tiers=dupes.EDITED))
    assert not dv.slider.isEnabled()


def test_two_views_zoom_and_pan_together(qtbot, window, review, corpus, tmp_path) -> None:
    _analyze(window, _copy(corpus, tmp_path / "photos", (), ("g24_string.jpg", "g24_string_resize25.jpg")))
    dv = review()
    assert len(dv.clusters) == 1 and len(dv.clusters[0].members) == 2
    big, small = (dv.compare.column_of(m.id).view for m in dv.clusters[0].members)
    qtbot.waitUntil(lambda: not big.pixmap_item.pixmap().isNull() and not small.pixmap_item.pixmap().isNull())
    assert big.sceneRect().width() == 4 * small.sceneRect().width()  # 1400 vs 350 photo pixels
    center = big.viewport().rect().center()
    at, buttons, keys = QPointF(center), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier
    wheel = QWheelEvent(at, big.viewport().mapToGlobal(at), QPoint(), QPoint(0, 120), buttons, keys,
                        Qt.ScrollPhase.NoScrollPhase, False)  # fmt: skip
    for _ in range(4):
        QApplication.sendEvent(big.viewport(), wheel)
    assert not big.fit_mode and not small.fit_mode
    # the same detail on screen: zoom per photo width, so the quarter-size copy is magnified 4x more
    assert small.zoom() * small.sceneRect().width() == pytest.approx(big.zoom() * big.sceneRect().width(), rel=0.01)

    def where(view) -> tuple[float, float]:
        p = view.mapToScene(view.viewport().rect().center())
        return p.x() / view.sceneRect().width(), p.y() / view.sceneRect().height()

    big.horizontalScrollBar().setValue(big.horizontalScrollBar().maximum())  # what a drag to the right does
    assert where(big)[0] > 0.6
    assert where(small) == pytest.approx(where(big), abs=0.02)
    qtbot.keyClick(dv.cluster_list, Qt.Key.Key_F)
    assert big.fit_mode and small.fit_mode


def test_menu_and_sidebar_open_the_review_and_empty_states(qtbot, window, review, corpus, tmp_path) -> None:
    item = window.sidebar.find("duplicates", None)
    assert item is not None
    window.sidebar._clicked(item)  # what a click on the sidebar entry does
    dv = window.dupes_window
    assert dv is not None and dv.isVisible()
    with qtbot.waitSignal(dv.clusters_changed, timeout=30_000):
        pass
    assert dv.pages.currentWidget() is dv.empty and "No analyzed photos" in dv.empty.text()
    assert not dv.trash_button.isEnabled()
    dv.close()
    qtbot.waitUntil(lambda: window.dupes_window is None)
    _analyze(window, _copy(corpus, tmp_path / "photos", ("n00",)))  # a dark/light pair: not duplicates
    window.dupes_action.trigger()
    dv = window.dupes_window
    with qtbot.waitSignal(dv.clusters_changed, timeout=30_000):
        pass
    assert dv.clusters == [] and "No duplicates with these settings" in dv.empty.text()
    assert window.dupes_action.shortcut().toString() == "Ctrl+D"
    dv.close()


def test_large_cluster_pages_with_the_focus_and_opens_the_viewer(qtbot, window, review, corpus, tmp_path) -> None:
    photos = tmp_path / "photos"
    _copy(corpus, photos / "a", ("g24_",))
    _copy(corpus, photos / "b", ("g24_",))  # byte-identical copies: one cluster of ten
    _analyze(window, photos)
    dv = review()
    assert [len(c.members) for c in dv.clusters] == [10]
    members = dv.clusters[0].members
    shown = [m.id for m in dv.compare.shown()]
    assert shown == [m.id for m in members[:6]] and "showing 1–6" in dv.compare.header.text()
    for _ in range(7):
        qtbot.keyClick(dv.cluster_list, Qt.Key.Key_Right)
    assert dv.focused_id() == members[7].id
    assert [m.id for m in dv.compare.shown()] == [m.id for m in members[2:8]]
    assert "showing 3–8" in dv.compare.header.text()
    assert dv.compare.column_of(members[7].id) is not None and dv.compare.column_of(members[0].id) is None
    qtbot.keyClick(dv.cluster_list, Qt.Key.Key_Return)
    assert dv.viewer is not None and dv.viewer.isVisible()
    assert dv.viewer.ids == [m.id for m in members] and dv.viewer.index == 7
    dv.viewer.close()

"""The main window driven as a person would: import through the GUI action, filter, inspect, view."""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QPointF, Qt

from app.core.catalog import queries
from app.core.catalog.models import Face, Photo, PhotoColor
from app.gui.viewer import Viewer
from tests.gui.conftest import JOB_TIMEOUT_MS, run_import


def _select(win, photo_id: int) -> None:
    row = win.model.row_of(photo_id)
    assert row is not None
    win.grid.selectionModel().setCurrentIndex(win.model.index(row), QItemSelectionModel.SelectionFlag.ClearAndSelect)


def _wait_for_rows(qtbot, win, expected_ids: list[int]) -> None:
    qtbot.waitUntil(lambda: sorted(win.model.ids()) == sorted(expected_ids), timeout=5000)


def test_import_fills_grid_and_sidebar(qtbot, window, corpus: Path, tmp_path: Path) -> None:
    folder = tmp_path / "exif"
    shutil.copytree(corpus / "exif", folder)
    run_import(qtbot, window, folder)
    shown = Photo.select().where(Photo.status.in_(["ok", "error"])).count()
    assert shown > 40
    assert window.model.rowCount() == shown
    assert window.filter_bar.count.text() == f"{shown:,} photos"
    assert window.last_report is not None and window.last_report.count("new") == Photo.select().count()
    # sidebar counts are read back from the catalog
    canon = window.sidebar.find("camera", "Canon PowerShot SX530 HS")
    assert canon is not None
    assert int(canon.text(1)) == Photo.select().where(Photo.model == "Canon PowerShot SX530 HS").count()


def test_color_and_tag_filters_match_catalog(qtbot, window, corpus: Path, tmp_path: Path) -> None:
    folder = tmp_path / "faces"
    shutil.copytree(corpus / "faces", folder)
    run_import(qtbot, window, folder)
    bar = window.filter_bar
    bar.min_share.setValue(30)
    bar.color_buttons["blue"].setChecked(True)
    blue = [
        p
        for (p,) in PhotoColor.select(PhotoColor.photo)
        .where((PhotoColor.name == "blue") & (PhotoColor.share >= 30))
        .tuples()
    ]
    assert blue, "the corpus has photos that are mostly blue (sea, sky)"
    _wait_for_rows(qtbot, window, blue)

    bar.reset()
    _wait_for_rows(qtbot, window, [p.id for p in Photo.select().where(Photo.status.in_(["ok", "error"]))])
    tagged = window.model.ids()[:3]
    for pid in tagged:
        _select(window, pid)
        window.inspector.tag_edit.setText("holiday 2024")
        qtbot.keyClick(window.inspector.tag_edit, Qt.Key.Key_Return)
    item = window.sidebar.find("tag", "holiday 2024")
    assert item is not None and item.text(1) == "3"
    window.sidebar._clicked(item)  # what a click on the tag in the sidebar does
    _wait_for_rows(qtbot, window, tagged)
    # the GUI's rows are exactly what the shared Filter gives the CLI
    assert window.model.ids() == queries.search_ids(bar.current())


def test_inspector_shows_exif_and_swatches(qtbot, window, corpus: Path, tmp_path: Path) -> None:
    folder = tmp_path / "exif"
    folder.mkdir()
    shutil.copy(corpus / "exif" / "camera_canon_sx530hs.jpg", folder)
    run_import(qtbot, window, folder)
    photo = Photo.get(Photo.filename == "camera_canon_sx530hs.jpg")
    _select(window, photo.id)
    inspector = window.inspector
    qtbot.waitUntil(lambda: inspector.photo_id == photo.id, timeout=3000)
    assert inspector.exif_value("exif", "ExposureTime") == "1/800 s"
    assert inspector.exif_value("exif", "FNumber") == "f/4.5"
    assert inspector.exif_value("exif", "ISO") == "ISO 100"
    assert inspector.exif_value("image", "Model") == "Canon PowerShot SX530 HS"
    assert inspector.fields["Camera"].text() == "Canon PowerShot SX530 HS"
    assert inspector.fields["Exposure"].text() == "1/800 s · f/4.5 · 14 mm · ISO 100"
    stored = [
        (n, s)
        for n, s in PhotoColor.select(PhotoColor.name, PhotoColor.share)
        .where(PhotoColor.photo == photo.id)
        .order_by(PhotoColor.share.desc())
        .tuples()
    ]
    shown = inspector.predominant.segments
    assert [n for n, _ in shown] == [n for n, _ in stored]
    assert [round(s, 1) for _, s in shown] == [round(s, 1) for _, s in stored]
    assert len(inspector.histogram.segments) == 32
    # clicking the largest swatch filters by that color
    name, _ = shown[0]
    rect = inspector.predominant.segment_rects()[0][0]
    qtbot.mouseClick(inspector.predominant, Qt.MouseButton.LeftButton, pos=rect.center().toPoint())
    assert window.filter_bar.color_buttons[name].isChecked()


def test_viewer_face_overlay_maps_to_stored_boxes(qtbot, window, corpus: Path, tmp_path: Path) -> None:
    folder = tmp_path / "faces"
    folder.mkdir()
    shutil.copy(corpus / "faces" / "kpa_wayne_exif6.jpg", folder)  # stored sideways, EXIF orientation 6
    run_import(qtbot, window, folder)
    photo = Photo.get(Photo.filename == "kpa_wayne_exif6.jpg")
    boxes = sorted((f.x, f.y, f.w, f.h) for f in Face.select().where(Face.photo == photo.id))
    assert len(boxes) == 2
    assert photo.height > photo.width  # oriented: portrait
    _select(window, photo.id)
    viewer: Viewer = window.open_viewer()
    qtbot.waitUntil(lambda: "loading" not in viewer.status.text(), timeout=10_000)
    view = viewer.view
    pixmap_rect = view.pixmap_item.sceneBoundingRect()
    assert (round(pixmap_rect.width()), round(pixmap_rect.height())) == (photo.width, photo.height)
    for zoom in (None, 1.0, 2.5):
        view.fit() if zoom is None else view.set_zoom(zoom)
        drawn = sorted(tuple(round(v) for v in item.mapRectToScene(item.rect()).getRect()) for item in view.face_items)
        assert drawn == boxes
        # on screen: each box's corner sits at the photo pixel times the zoom factor
        for item, box in zip(sorted(view.face_items, key=lambda i: i.rect().getRect()), boxes, strict=True):
            corner = view.mapFromScene(QPointF(box[0], box[1]))
            origin = view.mapFromScene(QPointF(0, 0))
            assert abs((corner.x() - origin.x()) - box[0] * view.zoom()) <= 1.5
            assert item.isVisible()
    viewer.overlay.trigger()  # toggle off
    assert not any(item.isVisible() for item in view.face_items)
    viewer.close()


def test_cancel_import_keeps_app_responsive_and_consistent(qtbot, window, corpus: Path, tmp_path: Path) -> None:
    folder = tmp_path / "many"
    for i in range(3):
        shutil.copytree(corpus / "faces", folder / f"copy{i}")
    ticks = []
    timer_id = window.startTimer(50)
    original = window.timerEvent
    window.timerEvent = lambda event: ticks.append(event.timerId())  # type: ignore[method-assign]
    with qtbot.waitSignal(window.runner.progress, timeout=JOB_TIMEOUT_MS):
        assert window.start_import([folder])
    qtbot.waitUntil(lambda: window.progress_panel.bar.value() >= 5, timeout=JOB_TIMEOUT_MS)
    with qtbot.waitSignal(window.runner.finished, timeout=JOB_TIMEOUT_MS) as done:
        qtbot.mouseClick(window.progress_panel.cancel, Qt.MouseButton.LeftButton)
    window.killTimer(timer_id)
    window.timerEvent = original  # type: ignore[method-assign]
    report = done.args[0]
    assert report.cancelled
    assert len(ticks) >= 5, "the event loop kept running during the import"
    stored = Photo.select().count()
    assert 0 < stored < sum(1 for f in folder.rglob("*") if f.suffix in {".jpg", ".png"})
    assert window.model.rowCount() == Photo.select().where(Photo.status.in_(["ok", "error"])).count()
    assert window.lib.db.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert window.import_action.isEnabled()
    # and a second import resumes and completes
    run_import(qtbot, window, folder)
    assert not window.last_report.cancelled
    photos = sum(1 for f in folder.rglob("*") if f.suffix in {".jpg", ".png"})
    assert Photo.select().count() == photos


def test_window_fits_a_small_laptop_screen(qtbot, window) -> None:
    """With the sidebar and the inspector open, the window's minimum width fits a 1280 px screen
    (the filter bar once forced 1763 px)."""
    window.show()
    assert window.sidebar_dock.isVisible() and window.inspector_dock.isVisible()
    assert window.minimumSizeHint().width() <= 1280
    window.resize(1280, 760)
    qtbot.waitUntil(lambda: window.width() <= 1280)
    assert window.filter_bar.width() <= 1280 - window.sidebar_dock.width() - window.inspector_dock.width()

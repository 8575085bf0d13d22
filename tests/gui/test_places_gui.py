"""Places and time in the desktop app: the sidebar's Places tree and Timeline, the filter bar's
place and distance fields, the timeline strip, the offline map (clusters, area, zoom, pan) and the
inspector's location, driven like a person would, on the corpus' geotagged photos."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, QPoint, QPointF, QSettings, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QToolButton

from app.core.catalog.models import Photo
from app.core.library import Library
from app.gui.main_window import MainWindow


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("places-gui") / "lib"
    with Library.open(root) as lib:
        lib.import_folders([corpus / "exif"], analyze=False, processes=1)  # places need no analysis
    yield root


@pytest.fixture
def win(qtbot, tmp_path: Path, library: Path) -> Iterator[MainWindow]:
    lib = Library.open(library)
    w = MainWindow(lib, QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.resize(1400, 950)
    w.show()
    yield w
    w.thumbs.close()
    lib.close()


def shown(qtbot, w: MainWindow, count: int) -> set[str]:
    qtbot.waitUntil(lambda: w.model.rowCount() == count, timeout=5000)
    return {w.model.info(r).filename for r in range(w.model.rowCount())}


def select(w: MainWindow, filename: str) -> None:
    row = w.model.row_of(Photo.get(Photo.filename == filename).id)
    w.grid.selectionModel().setCurrentIndex(w.model.index(row), QItemSelectionModel.SelectionFlag.ClearAndSelect)


BRAZIL = {"gps_rio.jpg", "phone_xiaomi_mia3_gps_sw.jpg", "phone_xiaomi_mia3_orient3_gps_sw.jpg"}


def test_sidebar_places_tree_filters_the_grid(qtbot, win: MainWindow) -> None:
    brazil = win.sidebar.find("place", ("Brazil",))
    assert brazil is not None and brazil.text(1) == "3"
    regions = {brazil.child(i).text(0): brazil.child(i).text(1) for i in range(brazil.childCount())}
    assert regions == {"Federal District": "2", "Rio de Janeiro": "1"}
    district = win.sidebar.find("place", ("Brazil", "Federal District", "Brasília"))
    win.sidebar.itemClicked.emit(district, 0)
    assert shown(qtbot, win, 2) == BRAZIL - {"gps_rio.jpg"}
    chip = next(c for c in win.filter_bar.findChildren(QToolButton, "placeChip") if "Brasília" in c.text())
    chip.click()  # the chip's ✕: back to everything
    qtbot.waitUntil(lambda: win.model.rowCount() == win.lib.photo_count())


def test_sidebar_timeline_years_months_days(qtbot, win: MainWindow) -> None:
    day = win.sidebar.find("date", ("2021-06-16", "2021-06-16"))  # the gps_* photos were given this day
    assert day is not None and day.text(0) == "Wed 16"
    month = day.parent()
    assert month.text(0) == "June" and month.parent().text(0) == "2021"
    win.sidebar.itemClicked.emit(day, 0)
    names = shown(qtbot, win, int(day.text(1)))
    assert all(Photo.get(Photo.filename == n).taken_at.startswith("2021-06-16") for n in names)


def test_filter_bar_place_and_near(qtbot, win: MainWindow) -> None:
    bar = win.filter_bar
    bar.place.setText("brazil")
    assert shown(qtbot, win, 3) == BRAZIL
    bar.place.clear()
    bar.near.setText("40.6892, -74.0445")  # the Statue of Liberty
    assert shown(qtbot, win, 1) == {"gps_nyc.jpg"}
    bar.near.setText("-22.95, -43.21")
    bar.within.setValue(950)  # Rio to Brasília: 938 km
    assert shown(qtbot, win, 3) == BRAZIL
    bar.near.setText("-22.95, ")  # half typed: the grid stays, the field says so
    qtbot.wait(300)
    assert win.model.rowCount() == 3 and "d33" in bar.near.styleSheet()
    bar.near.clear()
    bar.text.setText("sydney")  # free text finds place names
    assert shown(qtbot, win, 1) == {"gps_sydney.jpg"}


def test_photos_taken_nearby(qtbot, win: MainWindow) -> None:
    select(win, "phone_xiaomi_mia3_gps_sw.jpg")
    assert win.where_when.nearby_action.isEnabled()
    win.where_when.nearby_action.trigger()
    assert shown(qtbot, win, 2) == BRAZIL - {"gps_rio.jpg"}  # 27 m apart


def test_inspector_shows_the_place_and_a_mini_map(qtbot, win: MainWindow) -> None:
    select(win, "gps_sydney.jpg")
    inspector = win.inspector
    assert inspector.place.text() == "Sydney, New South Wales, Australia" and inspector.place.isVisibleTo(inspector)
    assert inspector.mini_map.isVisibleTo(inspector) and inspector.mini_map.spot == pytest.approx(
        (-33.8568, 151.2153), abs=1e-3
    )
    select(win, "iptc.jpg")  # no GPS, IPTC names the place
    assert inspector.place.text() == "Budapest, Hungary" and inspector.gps.text() == "No GPS position"
    assert not inspector.mini_map.isVisibleTo(inspector)
    select(win, "gps_rio.jpg")
    with qtbot.waitSignal(inspector.map_clicked):
        qtbot.mouseClick(inspector.mini_map, Qt.MouseButton.LeftButton)
    assert win.where_when.dock.isVisible()


def open_map(qtbot, win: MainWindow):  # -> MapView
    win.where_when.toggle_action.trigger()
    view = win.where_when.map
    qtbot.waitUntil(lambda: len(view.markers) == 10, timeout=5000)  # the corpus' ten GPS photos
    return view


def test_map_cluster_click_filters_the_grid_to_it(qtbot, win: MainWindow) -> None:
    view = open_map(qtbot, win)
    view.resize(1000, 500)
    view.zoom, view.center = 3.0, (0.36, 0.57)  # South America
    view.update()
    clusters = view.markers.at(view.zoom)
    on_screen = view.visible_clusters()
    brazil = max(on_screen, key=lambda c: clusters.count[c[0]])
    assert clusters.count[brazil[0]] == 2  # the two Brasília shots, 27 m apart
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=brazil[1].toPoint())
    assert shown(qtbot, win, 2) == BRAZIL - {"gps_rio.jpg"}
    assert win.filter_bar.current().area is not None


def test_map_shift_drag_selects_an_area(qtbot, win: MainWindow) -> None:
    view = open_map(qtbot, win)
    view.resize(1000, 500)
    view.zoom, view.center = 3.0, (0.36, 0.57)
    view.update()
    # a rectangle over the whole of eastern South America: Rio and the two Brasília shots
    rio = view.to_screen(*[float(v) for v in _world(-22.95, -43.21)])
    brasilia = view.to_screen(*[float(v) for v in _world(-15.83, -48.01)])
    start, end = QPoint(int(brasilia.x()) - 30, int(brasilia.y()) - 30), QPoint(int(rio.x()) + 30, int(rio.y()) + 30)
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, start)
    qtbot.mouseMove(view, end)
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, end)
    assert shown(qtbot, win, 3) == BRAZIL


def test_map_wheel_zooms_at_the_cursor_and_drag_pans(qtbot, win: MainWindow) -> None:
    view = open_map(qtbot, win)
    view.resize(800, 400)
    view.zoom, view.center = 3.0, (0.5, 0.5)
    spot = QPointF(200, 150)
    under = view.to_world_point(spot)
    wheel = QWheelEvent(spot, view.mapToGlobal(spot), QPoint(), QPoint(0, 240), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)  # fmt: skip
    QApplication.sendEvent(view, wheel)
    assert view.zoom == pytest.approx(4.0)
    assert view.to_world_point(spot) == pytest.approx(under)  # the place under the cursor stays put
    before = view.center
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(400, 200))
    qtbot.mouseMove(view, QPoint(300, 150))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(300, 150))
    assert view.center[0] == pytest.approx(before[0] + 100 / view.scale)
    assert view.center[1] == pytest.approx(before[1] + 50 / view.scale)
    assert win.filter_bar.current().area is None  # a drag is not a click


def test_map_rings_the_selected_photos(qtbot, win: MainWindow) -> None:
    view = open_map(qtbot, win)
    select(win, "gps_sydney.jpg")
    sydney = Photo.get(Photo.filename == "gps_sydney.jpg").id
    clusters = view.markers.at(view.zoom)
    member = clusters.member[list(view.markers.ids).index(sydney)]
    assert view._selected_in(clusters.zoom)[member]
    assert view._selected_in(clusters.zoom).sum() == 1


def test_timeline_strip_drag_sets_the_date_range(qtbot, win: MainWindow) -> None:
    strip = win.where_when.strip
    qtbot.waitUntil(lambda: strip.first is not None)
    assert strip.last.year <= 2026  # the corpus' 2099 camera clocks do not stretch it
    x = strip._x_of(strip.first.replace(year=2021, month=6, day=16))
    qtbot.mousePress(strip, Qt.MouseButton.LeftButton, pos=QPoint(int(x) - 3, 20))
    qtbot.mouseMove(strip, QPoint(int(x) + 6, 20))
    qtbot.mouseRelease(strip, Qt.MouseButton.LeftButton, pos=QPoint(int(x) + 6, 20))
    bar = win.filter_bar
    qtbot.waitUntil(lambda: bar.since.text() != "")
    assert bar.since.text() <= "2021-06-16" <= bar.until.text()
    names = {win.model.info(r).filename for r in range(win.model.rowCount())}
    assert {"gps_rio.jpg", "gps_nyc.jpg", "gps_sydney.jpg"} <= names
    qtbot.mouseClick(strip, Qt.MouseButton.LeftButton, pos=QPoint(10, 20))  # a click clears the range
    qtbot.waitUntil(lambda: bar.since.text() == "" and bar.until.text() == "")


def _world(lat: float, lon: float) -> tuple[float, float]:
    import numpy as np

    from app.core.places.mercator import to_world

    x, y = to_world(np.array([lat]), np.array([lon]))
    return float(x[0]), float(y[0])

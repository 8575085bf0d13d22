"""Where and when, around the grid: the Map dock (View > Map, Ctrl+M), the timeline strip over the
grid, and "Photos Taken Nearby" in the grid's menu. They follow the filter bar and feed it: a map
cluster or area, a dragged date range, a photo's surroundings."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget

from app.core.catalog import timeline
from app.core.catalog.map_points import positions
from app.core.catalog.models import Photo
from app.core.catalog.queries import Filter
from app.core.places import outlines
from app.core.places.clusters import Markers
from app.gui.map_view import MapView
from app.gui.timeline_strip import TimelineStrip

if TYPE_CHECKING:
    from app.gui.main_window import MainWindow

NEARBY_KM = 1.0
SPOT_ZOOM = 12.0  # the map's zoom for "show the photos around this one"


class MapAndTimeline(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.strip = TimelineStrip()
        self.map = MapView()
        self.dock = QDockWidget("Map", window)
        self.dock.setObjectName("dock-Map")
        self.dock.setWidget(self.map)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.dock)
        self.dock.hide()
        self.toggle_action = self.dock.toggleViewAction()
        self.toggle_action.setText("&Map")
        self.toggle_action.setShortcut(QKeySequence("Ctrl+M"))
        self.toggle_action.setStatusTip("Where the photos were taken, on an offline map")
        self.nearby_action = QAction("Photos Taken &Nearby", window)
        self.nearby_action.setStatusTip(f"Photos taken within {NEARBY_KM:g} km of the current one")
        self.nearby_action.triggered.connect(self.show_nearby)
        self._filter = Filter()
        self._strip_key: Filter | None = None
        self._markers_key: Filter | None = None
        self._fitted = False
        self._timer = QTimer(self, singleShot=True, interval=0)  # after the grid has painted
        self._timer.timeout.connect(self._update_views)
        bar = window.filter_bar
        self.map.area_picked.connect(bar.set_area)
        self.strip.range_picked.connect(bar.set_dates)
        self.dock.visibilityChanged.connect(lambda visible: visible and self._timer.start())
        window.inspector.map_clicked.connect(self.show_spot)
        # the outlines take ~1-2 s to read and simplify: not on the GUI thread when a photo is first shown
        threading.Thread(target=outlines.level, args=(0,), name="map-outlines", daemon=True).start()

    # -- following the window -----------------------------------------------------------------------
    def filter_changed(self, f: Filter) -> None:
        self._filter = f
        self._timer.start()

    def selection_changed(self, ids: list[int]) -> None:
        if self.dock.isVisible():
            self.map.set_selected(ids)

    def _update_views(self) -> None:
        f = self._filter
        strip_key = f.with_(since="", until="", sort="date", descending=False)
        if strip_key != self._strip_key:  # a dragged range changes only the shading
            self._strip_key = strip_key
            self.strip.set_counts(timeline.day_counts(f), f.since, f.until)
        else:
            self.strip.set_counts_range(f.since, f.until)
        if not self.dock.isVisible():
            return
        markers_key = f.with_(area=None, sort="date", descending=False)
        if markers_key != self._markers_key:
            self._markers_key = markers_key
            self.map.set_markers(Markers(*positions(f)))
            self.map.set_selected(self.window.selected_ids())
            if not self._fitted:
                self.map.fit()
                self._fitted = True

    def refresh(self) -> None:
        """The catalog changed (an import, an edit): recount and re-place everything."""
        self._strip_key = self._markers_key = None
        self._timer.start()

    # -- actions --------------------------------------------------------------------------------------
    def show_spot(self, lat: float, lon: float) -> None:
        self.dock.show()
        self._update_views()
        self.map.set_spot(lat, lon, zoom=SPOT_ZOOM)
        self._fitted = True

    def show_nearby(self) -> bool:
        index = self.window.grid.currentIndex()
        if not index.isValid():
            return False
        photo = Photo.get_or_none(Photo.id == self.window.model.photo_id(index.row()))
        if photo is None or photo.gps_lat is None:
            self.window.statusBar().showMessage("This photo has no GPS position.", 5000)
            return False
        self.window.filter_bar.set_near(photo.gps_lat, photo.gps_lon, NEARBY_KM)
        return True

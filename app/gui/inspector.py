"""The inspector dock: everything known about the selected photo, with actions on it."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.catalog.facets import camera_name
from app.core.catalog.models import Photo
from app.core.catalog.present import photo_json
from app.core.collections import collections_of
from app.core.exif_format import coordinate, human_value, summary_line
from app.gui.flag_label import FlagLabelRow
from app.gui.map_view import MapView
from app.gui.rating_stars import RatingStars
from app.gui.swatch_bar import SwatchBar

EXIF_GROUPS = ("image", "exif", "gps", "interoperability", "thumbnail", "makernote")
MAP_URL = "https://www.openstreetmap.org/?mlat={lat:.6f}&mlon={lon:.6f}#map=15/{lat:.6f}/{lon:.6f}"


def _size(n: int | None) -> str:
    if n is None:
        return "-"
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000  # type: ignore[assignment]
    return str(n)


class Inspector(QScrollArea):
    color_clicked = Signal(str, float)
    tag_clicked = Signal(str)
    tag_added = Signal(int, str)  # photo id, tag
    tag_removed = Signal(int, str)
    rating_set = Signal(int, object)  # photo id, the new rating (None clears it)
    flag_set = Signal(int, str)  # photo id, pick | reject | none
    label_set = Signal(int, object)  # photo id, colour label name or None
    map_clicked = Signal(float, float)  # the shown photo's position: show the photos around it

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setMinimumWidth(300)
        self.photo_id: int | None = None
        self.data: dict[str, Any] = {}
        body = QWidget()
        layout = QVBoxLayout(body)

        self.file_box = QGroupBox("File")
        self.file_form = QFormLayout(self.file_box)
        self.fields: dict[str, QLabel] = {}
        for key in ("Name", "Folder", "Size", "Format", "Dimensions", "Taken", "Camera", "Lens", "Exposure", "Status"):
            label = QLabel(wordWrap=True, textInteractionFlags=Qt.TextInteractionFlag.TextSelectableByMouse)
            self.fields[key] = label
            self.file_form.addRow(key, label)
        self.stars = RatingStars()
        self.file_form.insertRow(1, "Rating", self.stars)  # right under the name: it is edited most
        self.flag_label = FlagLabelRow()
        self.file_form.insertRow(2, "Flag", self.flag_label)
        self.collections = QLabel(wordWrap=True)
        self.file_form.addRow("Collections", self.collections)

        colors_box = QGroupBox("Colors")
        colors_layout = QVBoxLayout(colors_box)
        self.predominant = SwatchBar(names=True)
        self.predominant.setToolTip("Predominant colors: click one to show photos with that color")
        self.predominant_label = QLabel(wordWrap=True)
        self.histogram = SwatchBar(names=False, height=14)
        colors_layout.addWidget(self.predominant)
        colors_layout.addWidget(self.predominant_label)
        colors_layout.addWidget(QLabel("32-color histogram"))
        colors_layout.addWidget(self.histogram)

        tags_box = QGroupBox("Tags")
        tags_layout = QVBoxLayout(tags_box)
        self.tags = QListWidget(maximumHeight=140)
        self.tags.setToolTip("Click a tag to show photos with it; auto tags are in italics")
        add_row = QHBoxLayout()
        self.tag_edit = QLineEdit(placeholderText="Add a tag…")
        self.remove_tag = QPushButton("Remove")
        add_row.addWidget(self.tag_edit)
        add_row.addWidget(self.remove_tag)
        tags_layout.addWidget(self.tags)
        tags_layout.addLayout(add_row)

        self.faces_box = QGroupBox("Faces")
        faces_layout = QVBoxLayout(self.faces_box)
        self.faces = QListWidget(maximumHeight=110)
        faces_layout.addWidget(self.faces)

        self.gps_box = QGroupBox("Location")
        gps_layout = QVBoxLayout(self.gps_box)
        self.place = QLabel(wordWrap=True, textInteractionFlags=Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.place.font()
        font.setBold(True)
        self.place.setFont(font)
        self.gps = QLabel(openExternalLinks=True, wordWrap=True)
        self.gps.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.mini_map = MapView(interactive=False)  # offline: the spot on Natural Earth's outlines
        self.mini_map.setFixedHeight(150)
        self.mini_map.setToolTip("Click to show the photos taken around here on the map")
        gps_layout.addWidget(self.place)
        gps_layout.addWidget(self.mini_map)
        gps_layout.addWidget(self.gps)

        exif_box = QGroupBox("EXIF")
        exif_layout = QVBoxLayout(exif_box)
        self.exif = QTreeWidget(minimumHeight=260)
        self.exif.setHeaderLabels(["Tag", "Value"])
        self.exif.setColumnWidth(0, 150)
        self.copy_exif = QPushButton("Copy EXIF")
        self.copy_exif.setToolTip("Copy all metadata as JSON")
        exif_layout.addWidget(self.exif)
        exif_layout.addWidget(self.copy_exif, alignment=Qt.AlignmentFlag.AlignRight)

        for box in (self.file_box, colors_box, tags_box, self.faces_box, self.gps_box, exif_box):
            layout.addWidget(box)
        layout.addStretch(1)
        self.setWidget(body)

        self.predominant.clicked.connect(self.color_clicked)
        self.tags.itemClicked.connect(lambda item: self.tag_clicked.emit(item.data(Qt.ItemDataRole.UserRole)))
        self.tag_edit.returnPressed.connect(self._add_tag)
        self.remove_tag.clicked.connect(self._remove_tag)
        self.copy_exif.clicked.connect(self.copy_metadata)
        self.stars.rating_clicked.connect(self._rate)
        self.mini_map.clicked.connect(lambda: self.mini_map.spot and self.map_clicked.emit(*self.mini_map.spot))
        self.flag_label.flag_clicked.connect(lambda flag: self._emit_for_photo(self.flag_set, flag))
        self.flag_label.label_clicked.connect(lambda name: self._emit_for_photo(self.label_set, name))
        self.show_photo(None)

    # -- showing ----------------------------------------------------------------------------------
    def show_photo(self, photo_id: int | None) -> None:
        photo = Photo.get_or_none(Photo.id == photo_id) if photo_id is not None else None
        self.photo_id = photo.id if photo else None
        self.data = photo_json(photo) if photo else {}
        self.setEnabled(photo is not None)
        self._show_file(photo)
        self._show_colors()
        self._show_tags()
        self._show_faces()
        self._show_gps()
        self._show_exif()

    def _show_file(self, photo: Photo | None) -> None:
        values = dict.fromkeys(self.fields, "")
        if photo:
            values.update(
                Name=photo.filename,
                Folder=photo.folder,
                Size=_size(photo.size),
                Format=self.data["format"] or "-",
                Dimensions=f"{photo.width} × {photo.height}" if photo.width else "-",
                Taken=(photo.taken_at or "-").replace("T", " "),
                Camera=camera_name(photo.make, photo.model) or "-",
                Lens=photo.lens or "-",
                Exposure=summary_line(photo.iso, photo.exposure_time, photo.f_number, photo.focal_length) or "-",
                Status=photo.status if not photo.error else f"{photo.status}: {photo.error}",
            )
        for key, value in values.items():
            self.fields[key].setText(value)
        self.stars.set_rating(photo.rating if photo else None)
        if photo:
            self.flag_label.show_values(photo.rating, photo.picked, photo.label)
        else:
            self.flag_label.show_values(None, False, None)
        self.collections.setText((", ".join(collections_of(photo.id)) or "none") if photo else "")

    def _show_colors(self) -> None:
        predominant = self.data.get("predominant", {}).get("google", []) if self.data else []
        self.predominant.set_segments(predominant)
        empty = "not analyzed yet" if self.data else ""  # nothing selected: nothing to say
        self.predominant_label.setText(", ".join(f"{n} {p:.1f}%" for n, p in predominant) or empty)
        self.histogram.set_segments(self.data.get("colors", []) if self.data else [])

    def _show_tags(self) -> None:
        self.tags.clear()
        for t in self.data.get("tag_sources", []):
            conf = f"  {t['confidence']:.0%}" if t["confidence"] is not None else ""
            item = QListWidgetItem(f"{t['tag']}{conf}  ({t['source']})")
            item.setData(Qt.ItemDataRole.UserRole, t["tag"])
            if t["source"] == "auto":
                font = item.font()
                font.setItalic(True)
                item.setFont(font)
            self.tags.addItem(item)

    def _show_faces(self) -> None:
        self.faces.clear()
        faces = self.data.get("people", [])
        for i, face in enumerate(faces, 1):
            x, y, w, h = face["box"]
            where = f"at ({x}, {y}), {w}×{h}"
            if face["person"] and face["state"] == "confirmed":
                text = f"{face['person']}  {where}"
            elif face["person"] and face["state"] == "suggested":
                text = f"{face['person']}?  (suggested: confirm in People)  {where}"
            else:
                text = f"Face {i}: {face['score']:.0%} {where}"
            self.faces.addItem(text)
        self.faces_box.setTitle(f"Faces ({len(faces)})")

    def _show_gps(self) -> None:
        gps = self.data.get("gps") if self.data else None
        place = (self.data.get("place") or {}) if self.data else {}
        names = [place[k] for k in ("city", "region", "country") if place.get(k)]
        self.place.setText(", ".join(names))
        self.place.setVisible(bool(names))
        self.mini_map.setVisible(bool(gps))
        if not gps:
            self.gps.setText("No GPS position" if names else "No location")
            self.mini_map.set_spot(None, None)
            return
        self.mini_map.set_spot(gps["latitude"], gps["longitude"], zoom=5.0 if place.get("city") else 3.0)
        lat, lon, alt = gps["latitude"], gps["longitude"], gps.get("altitude")
        text = f"{coordinate(lat, 'N', 'S')}, {coordinate(lon, 'E', 'W')}"
        if alt is not None:
            text += f", {alt:.0f} m"
        self.gps.setText(f"{text}<br><a href='{MAP_URL.format(lat=lat, lon=lon)}'>Open in OpenStreetMap</a> (online)")

    def _show_exif(self) -> None:
        self.exif.clear()
        exif = self.data.get("metadata", {}).get("exif", {}) if self.data else {}
        for group in EXIF_GROUPS:
            values = exif.get(group) or {}
            top = QTreeWidgetItem(self.exif, [f"{group.capitalize()} ({len(values)})"])
            top.setFirstColumnSpanned(True)
            for key, value in values.items():
                QTreeWidgetItem(top, [key, human_value(key, value)]).setToolTip(1, str(value))
            top.setExpanded(group in ("image", "exif", "gps") and bool(values))

    def exif_value(self, group: str, key: str) -> str | None:
        """The text shown for one EXIF field (what a person reads in the panel)."""
        for i in range(self.exif.topLevelItemCount()):
            top = self.exif.topLevelItem(i)
            if top.text(0).split(" (")[0].lower() == group:
                for j in range(top.childCount()):
                    if top.child(j).text(0) == key:
                        return top.child(j).text(1)
        return None

    # -- actions ----------------------------------------------------------------------------------
    def copy_metadata(self) -> None:
        if self.data:
            text = json.dumps({"exif": self.data["metadata"]["exif"], "gps": self.data["gps"]}, indent=2, default=str)
            QGuiApplication.clipboard().setText(text)

    def _add_tag(self) -> None:
        name = self.tag_edit.text().strip()
        if name and self.photo_id is not None:
            self.tag_added.emit(self.photo_id, name)
            self.tag_edit.clear()

    def _emit_for_photo(self, signal: Any, value: object) -> None:
        if self.photo_id is not None:
            signal.emit(self.photo_id, value)

    def _rate(self, rating: int | None) -> None:
        if self.photo_id is not None:
            self.rating_set.emit(self.photo_id, rating)

    def _remove_tag(self) -> None:
        item = self.tags.currentItem()
        if item and self.photo_id is not None:
            self.tag_removed.emit(self.photo_id, item.data(Qt.ItemDataRole.UserRole))

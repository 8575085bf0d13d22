"""The filter bar: builds the same `Filter` the CLI's `tessera search` uses, live as the user types."""

from __future__ import annotations

import dataclasses
import re

from PySide6.QtCore import QStringListModel, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.catalog.queries import Filter
from app.core.flags import LABELS, NO_LABEL, PICK, REJECT, UNFLAGGED
from app.core.palette import PALETTE
from app.gui.swatch import chip_icon

DEBOUNCE_MS = 150
DATE_RE = re.compile(r"^(\d{4}(-\d{2}(-\d{2})?)?)?$")
NEAR_RE = re.compile(r"^\s*(-?\d+(\.\d*)?)\s*,\s*(-?\d+(\.\d*)?)\s*$")  # LAT,LON
FACE_CHOICES: tuple[tuple[str, int | None, int | None], ...] = (
    ("Any faces", None, None),
    ("No faces", 0, 0),
    ("1 face", 1, 1),
    ("2–5 faces", 2, 5),
    ("6+ faces", 6, None),
)
FORMATS = ("Any format", "JPEG", "PNG", "TIFF", "WEBP", "GIF", "BMP", "AVIF", "HEIF", "DNG", "CR2", "CR3", "NEF",
           "ARW", "ORF", "RAF", "RW2")  # fmt: skip
# (text, flags): Lightroom's flag filter choices
FLAG_CHOICES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Any flag", ()), ("Picked", (PICK,)), ("Not rejected", (PICK, UNFLAGGED)), ("Unflagged", (UNFLAGGED,)),
    ("Rejected", (REJECT,)),
)  # fmt: skip
LABEL_CHOICES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Any label", ()), *((name, (name,)) for name in LABELS), ("No label", (NO_LABEL,)),
)  # fmt: skip
BROWSE_STATUSES = ("ok", "error")  # the grid shows unreadable files too, with an error badge


class FilterBar(QWidget):
    changed = Signal(object)  # Filter
    similar_cleared = Signal()  # the "Similar to …" banner's Clear, or a full reset
    collection_cleared = Signal()  # the collection banner's Clear, or a full reset

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._folder = ""
        self._tags: list[str] = []
        self._place_path: tuple[str | None, ...] = ()  # from the sidebar's Places tree
        self._area: tuple[float, float, float, float] | None = None  # from the map
        self._area_label = ""
        self._persons: list[tuple[int, str]] = []  # (person or group id, label) chips
        self._person_ids: dict[str, int] = {}  # lower-cased name -> id, for typed names
        self._sort = ("date", False)
        self._base = Filter()  # fields no widget here shows (a smart collection's, other panels'): kept as loaded
        self.collection_id: int | None = None  # the manual collection shown, or None
        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._timer.timeout.connect(self._emit)

        self.text = QLineEdit(
            placeholderText="Search names, folders, cameras, tags, places…  (Ctrl+F)", clearButtonEnabled=True
        )
        self.text.setMinimumWidth(160)
        self.camera = QComboBox(editable=True, minimumWidth=140)
        self.camera.lineEdit().setPlaceholderText("Any camera")
        self.since = QLineEdit(placeholderText="from YYYY-MM-DD", minimumWidth=115, maximumWidth=130)
        self.until = QLineEdit(placeholderText="to YYYY-MM-DD", minimumWidth=115, maximumWidth=130)
        self.gps = QCheckBox("Has GPS", tristate=False)
        self.place = QLineEdit(placeholderText="Place", clearButtonEnabled=True, maximumWidth=150)
        self.place.setToolTip("A country (or its code), region or city: the photos taken there")
        self.place_model = QStringListModel(self)
        place_completer = QCompleter(self.place_model, self)
        place_completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.place.setCompleter(place_completer)
        self.near = QLineEdit(placeholderText="Near lat, lon", clearButtonEnabled=True, maximumWidth=150)
        self.near.setToolTip("Photos taken within the distance of a position (decimal degrees, e.g. 48.8584, 2.2945);"
                             " the grid's context menu fills it with a photo's position")  # fmt: skip
        self.within = QDoubleSpinBox(minimum=0.01, maximum=20_000, value=1.0, decimals=2, suffix=" km")
        self.within.setToolTip("Distance for Near, great-circle")
        self.within.setMaximumWidth(95)
        self.faces = QComboBox()
        for label, _, _ in FACE_CHOICES:
            self.faces.addItem(label)
        self.format = QComboBox()
        self.format.addItems(list(FORMATS))
        self.rating = QComboBox()
        self.rating.addItems(["Any rating", "★ 1+", "★ 2+", "★ 3+", "★ 4+", "★ 5"])
        self.flag = QComboBox(toolTip="Pick flags (P, X, U on the grid)")
        self.flag.addItems([text for text, _ in FLAG_CHOICES])
        self.label = QComboBox(toolTip="Colour labels (6-9 on the grid)")
        self.label.addItems([text for text, _ in LABEL_CHOICES])
        self.collection_label = QLabel()
        self.collection_clear = QPushButton("Clear", toolTip="Back to the whole library")
        self.collection_banner = _banner("collectionBanner", self.collection_label, self.collection_clear,
                                         "background: palette(alternate-base); border: 1px solid palette(mid);",
                                         "font-weight: bold;")  # fmt: skip
        self.count = QLabel("", minimumWidth=90)
        self.count.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.clear = QPushButton("Clear")

        self.color_buttons: dict[str, QToolButton] = {}
        self.min_share = QSpinBox(minimum=1, maximum=100, value=20, suffix=" %", maximumWidth=70)
        self.min_share.setToolTip("Minimum share of the image in the chosen colors")
        self.tag_model = QStringListModel(self)
        self.tag_input = self._completing("Add tag filter…", 160, self.tag_model)
        self.tag_mode = QComboBox()
        self.tag_mode.addItems(["all tags", "any tag"])
        self.tag_chips = QHBoxLayout()
        self.tag_chips.setSpacing(4)
        self.place_chips = QHBoxLayout()  # the sidebar's place and the map's area, each removable
        self.place_chips.setSpacing(4)
        self.person_names = QStringListModel(self)
        self.person_input = self._completing("Person…", 120, self.person_names)
        self.person_mode = QComboBox()
        self.person_mode.addItems(["all", "any"])
        self.person_mode.setToolTip("Photos with every person listed, or with any of them")
        self.person_chips = QHBoxLayout()
        self.person_chips.setSpacing(4)
        self.similar_label = QLabel()
        self.similar_clear = QPushButton("Clear", toolTip="Back to the filtered photos (Clear Filters also does)")
        # the highlight color reads as "a special view is on" in light and dark themes alike
        self.similar_banner = _banner("similarBanner", self.similar_label, self.similar_clear,
                                      "background: palette(highlight);",
                                      "color: palette(highlighted-text); font-weight: bold;")  # fmt: skip

        self._layout()
        self._connect()

    # -- building ---------------------------------------------------------------------------------
    def _completing(self, placeholder: str, width: int, words: QStringListModel) -> QLineEdit:
        """A short field that completes from `words`, whatever the case."""
        edit = QLineEdit(placeholderText=placeholder, maximumWidth=width)
        completer = QCompleter(words, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        edit.setCompleter(completer)
        return edit

    def _layout(self) -> None:
        # three short rows rather than two long ones: with the sidebar and the inspector beside it, the
        # window then fits a 1280 px wide screen (two rows made it at least 1763 px wide: no laptop)
        top = QHBoxLayout()
        for w in (self.text, self.camera, self.since, self.until, self.count, self.clear):
            top.addWidget(w)
        top.setStretch(0, 3)
        middle = QHBoxLayout()
        for w in (self.gps, self.faces, self.format, self.rating):
            middle.addWidget(w)
        places = QHBoxLayout()
        for w in (self.place, self.near, self.within):
            places.addWidget(w)
        places.addLayout(self.place_chips)
        places.addStretch(1)
        middle.addSpacing(16)
        middle.addWidget(QLabel("Tags:"))
        middle.addLayout(self.tag_chips)
        middle.addWidget(self.tag_input)
        middle.addWidget(self.tag_mode)
        middle.addSpacing(12)
        middle.addWidget(QLabel("People:"))
        middle.addLayout(self.person_chips)
        middle.addWidget(self.person_input)
        middle.addWidget(self.person_mode)
        middle.addStretch(1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.flag)  # the colour row has room to spare (three rows fit a 1280 px screen)
        bottom.addWidget(self.label)
        bottom.addSpacing(12)
        bottom.addWidget(QLabel("Colors:"))
        for name in PALETTE:
            b = QToolButton(checkable=True, toolTip=f"{name} ≥ minimum share", autoRaise=True)
            b.setIcon(chip_icon(name, 18))
            b.setObjectName(f"color-{name}")
            self.color_buttons[name] = b
            bottom.addWidget(b)
        bottom.addWidget(QLabel("≥"))
        bottom.addWidget(self.min_share)
        bottom.addStretch(1)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 4, 6, 4)
        outer.setSpacing(4)
        outer.addWidget(self.similar_banner)
        outer.addWidget(self.collection_banner)
        outer.addLayout(top)
        outer.addLayout(middle)
        outer.addLayout(places)
        outer.addLayout(bottom)

    def _connect(self) -> None:
        self.text.textChanged.connect(self.schedule)
        self.camera.currentTextChanged.connect(self.schedule)
        self.since.textChanged.connect(self.schedule)
        self.until.textChanged.connect(self.schedule)
        self.place.textChanged.connect(self.schedule)
        self.near.textChanged.connect(self.schedule)
        self.within.valueChanged.connect(self.schedule)
        for w in (self.gps,):
            w.toggled.connect(self.schedule)
        for combo in (self.faces, self.format, self.rating, self.tag_mode, self.flag, self.label, self.person_mode):
            combo.currentIndexChanged.connect(self.schedule)
        self.person_input.returnPressed.connect(self._add_typed_person)
        for b in self.color_buttons.values():
            b.toggled.connect(self.schedule)
        self.min_share.valueChanged.connect(self.schedule)
        self.tag_input.returnPressed.connect(self._add_typed_tag)
        self.clear.clicked.connect(self.reset)
        self.similar_clear.clicked.connect(self.clear_similar)
        self.collection_clear.clicked.connect(self.clear_collection)

    # -- state ------------------------------------------------------------------------------------
    def schedule(self) -> None:
        self._timer.start()

    def apply_now(self) -> None:
        """Emit the filter at once instead of after the typing pause."""
        self._timer.stop()
        self._emit()

    def _emit(self) -> None:
        f = self.current()
        if f is not None:
            self.changed.emit(f)

    def dates_valid(self) -> bool:
        ok = True
        for edit in (self.since, self.until):
            valid = bool(DATE_RE.match(edit.text().strip()))
            edit.setStyleSheet("" if valid else "border: 1px solid #d33;")
            edit.setToolTip("" if valid else "Dates are YYYY, YYYY-MM or YYYY-MM-DD")
            ok = ok and valid
        return ok

    def near_value(self) -> tuple[float, float, float] | bool | None:
        """(lat, lon, km) from the Near field; None when empty, False while it is not a position."""
        text = self.near.text().strip()
        match = NEAR_RE.match(text)
        valid = not text or (match is not None and abs(float(match[1])) <= 90 and abs(float(match[3])) <= 180)
        self.near.setStyleSheet("" if valid else "border: 1px solid #d33;")
        if not text or not valid:
            return None if valid else False
        return float(match[1]), float(match[3]), self.within.value()  # type: ignore[index]

    def current(self) -> Filter | None:
        """The Filter the widgets describe, or None while a date or a position is half typed."""
        near = self.near_value()
        if not self.dates_valid() or near is False:
            return None
        _, low, high = FACE_CHOICES[self.faces.currentIndex()]
        share = float(self.min_share.value())
        fmt = self.format.currentText()
        return dataclasses.replace(
            self._base,
            text=self.text.text().strip(),
            tags=tuple(self._tags),
            any_tag=self.tag_mode.currentIndex() == 1,
            colors=tuple((n, share) for n, b in self.color_buttons.items() if b.isChecked()),
            camera=self.camera.currentText().strip(),
            since=self.since.text().strip(),
            until=self.until.text().strip(),
            has_gps=True if self.gps.isChecked() else None,
            min_faces=low,
            max_faces=high,
            formats=() if fmt == FORMATS[0] else (fmt,),
            min_rating=self.rating.currentIndex() or None,
            flags=FLAG_CHOICES[self.flag.currentIndex()][1],
            labels=LABEL_CHOICES[self.label.currentIndex()][1],
            collection=self.collection_id,
            folder=self._folder,
            place=self.place.text().strip(),
            place_path=self._place_path,
            near=near or None,
            area=self._area,
            person_ids=tuple(pid for pid, _ in self._persons),
            any_person=self.person_mode.currentIndex() == 1,
            statuses=BROWSE_STATUSES,
            sort=self._sort[0],
            descending=self._sort[1],
        )

    def load(self, f: Filter) -> None:
        """Show a saved filter (a smart collection's) in the widgets; fields no widget shows are kept."""
        self.reset(emit=False)
        for w in self.findChildren(QWidget):
            w.blockSignals(True)
        self._base = f.with_(collection=None)
        self.text.setText(f.text)
        self._tags = list(f.tags)
        self.tag_mode.setCurrentIndex(1 if f.any_tag else 0)
        for name, share in f.colors:
            self.color_buttons[name].setChecked(True)
            self.min_share.setValue(max(1, min(100, round(share))))
        self.camera.setCurrentText(f.camera)
        self.since.setText(f.since)
        self.until.setText(f.until)
        self.gps.setChecked(f.has_gps is True)
        self.set_faces(f.min_faces, f.max_faces)
        self.format.setCurrentIndex(FORMATS.index(f.formats[0]) if f.formats and f.formats[0] in FORMATS else 0)
        self.rating.setCurrentIndex(min(5, max(0, f.min_rating or 0)))
        self.flag.setCurrentIndex(_choice(FLAG_CHOICES, f.flags))
        self.label.setCurrentIndex(_choice(LABEL_CHOICES, f.labels))
        self._folder = f.folder
        self._sort = (f.sort, f.descending)
        for w in self.findChildren(QWidget):
            w.blockSignals(False)
        self._rebuild_chips()
        self.schedule()

    def show_collection(self, collection_id: int | None, text: str) -> None:
        """The banner over the grid while it shows a collection (`collection_id`: a manual one, whose
        photos the grid is narrowed to; None for a smart one, whose criteria are the filters)."""
        self.collection_id = collection_id
        self.collection_label.setText(text)
        self.collection_banner.show()
        self.schedule()

    def clear_collection(self) -> None:
        if self.collection_banner.isVisible() or self.collection_id is not None:
            self.collection_id = None
            self.collection_banner.hide()
            self.collection_label.clear()
            self.collection_cleared.emit()
            self.schedule()

    def set_match_count(self, n: int) -> None:
        self.count.setText(f"{n:,} photo{'s' if n != 1 else ''}")

    def set_known(self, tags: list[str], cameras: list[str], places: list[str] | None = None) -> None:
        self.tag_model.setStringList(tags)
        self.place_model.setStringList(places or [])
        current = self.camera.currentText()
        self.camera.blockSignals(True)
        self.camera.clear()
        self.camera.addItems(["", *cameras])
        self.camera.setCurrentText(current)
        self.camera.blockSignals(False)

    def set_people(self, names: dict[str, int]) -> None:
        """The named persons the person field completes (name -> id)."""
        self._person_ids = {n.lower(): pid for n, pid in names.items()}
        self.person_names.setStringList(sorted(names, key=str.lower))

    # -- changes from elsewhere (sidebar, inspector) ----------------------------------------------
    def set_sort(self, key: str, descending: bool) -> None:
        self._sort = (key, descending)
        self.schedule()

    def set_folder(self, folder: str) -> None:
        self._folder = folder
        self.schedule()

    def add_tag(self, name: str) -> None:
        if name and name.lower() not in (t.lower() for t in self._tags):
            self._tags.append(name)
            self._rebuild_chips()
            self.schedule()

    def remove_tag(self, name: str) -> None:
        self._tags = [t for t in self._tags if t != name]
        self._rebuild_chips()
        self.schedule()

    def add_person(self, person_id: int, label: str) -> None:
        if all(pid != person_id for pid, _ in self._persons):
            self._persons.append((person_id, label))
            self._rebuild_chips()
            self.schedule()

    def remove_person(self, person_id: int) -> None:
        self._persons = [(pid, label) for pid, label in self._persons if pid != person_id]
        self._rebuild_chips()
        self.schedule()

    def _add_typed_person(self) -> None:
        name = self.person_input.text().strip()
        pid = self._person_ids.get(name.lower())
        if pid is not None:
            self.add_person(pid, next(n for n in self.person_names.stringList() if n.lower() == name.lower()))
            self.person_input.clear()
        else:
            self.person_input.setToolTip(f"No person named {name!r}: name people in the People window")

    def set_color(self, name: str, share: float | None = None) -> None:
        if share is not None:
            self.min_share.setValue(max(1, min(100, round(share))))
        self.color_buttons[name].setChecked(True)

    def set_camera(self, camera: str) -> None:
        self.camera.setCurrentText(camera)

    def set_dates(self, since: str, until: str) -> None:
        self.since.setText(since)
        self.until.setText(until)

    def set_place_path(self, path: tuple[str | None, ...]) -> None:
        self._place_path = tuple(path)
        self._rebuild_place_chips()
        self.schedule()

    def set_area(self, area: tuple[float, float, float, float] | None, label: str = "") -> None:
        self._area, self._area_label = area, label
        self._rebuild_place_chips()
        self.schedule()

    def set_near(self, lat: float, lon: float, km: float | None = None) -> None:
        if km is not None:
            self.within.setValue(km)
        self.near.setText(f"{lat:.6f}, {lon:.6f}")

    def _rebuild_place_chips(self) -> None:
        while self.place_chips.count():
            item = self.place_chips.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        chips = []
        if self._place_path:
            names = " › ".join(p or "Unknown" for p in self._place_path)
            chips.append((f"Place: {names}  ✕", lambda: self.set_place_path(())))
        if self._area is not None:
            chips.append((f"Map: {self._area_label or 'area'}  ✕", lambda: self.set_area(None)))
        for text, remove in chips:
            chip = QToolButton(text=text, toolTip="Remove this filter")
            chip.setObjectName("placeChip")
            chip.clicked.connect(remove)
            self.place_chips.addWidget(chip)

    def set_faces(self, low: int | None, high: int | None) -> None:
        for i, (_, lo, hi) in enumerate(FACE_CHOICES):
            if (lo, hi) == (low, high):
                self.faces.setCurrentIndex(i)

    def show_similar(self, filename: str, count: int) -> None:
        self.similar_label.setText(f"Similar to {filename} — {count} most similar photos, best first")
        self.similar_banner.show()

    def clear_similar(self) -> None:
        if self.similar_banner.isVisible() or self.similar_label.text():
            self.similar_banner.hide()
            self.similar_label.clear()
            self.similar_cleared.emit()

    def reset(self, emit: bool = True) -> None:
        self.clear_similar()
        self.clear_collection()
        self._base = Filter()
        for w in self.findChildren(QWidget):
            w.blockSignals(True)
        self.text.clear()
        self.camera.setCurrentText("")
        self.since.clear()
        self.until.clear()
        self.place.clear()
        self.near.clear()
        self.within.setValue(1.0)
        self.gps.setChecked(False)
        for combo in (self.faces, self.format, self.rating, self.tag_mode, self.flag, self.label, self.person_mode):
            combo.setCurrentIndex(0)
        for b in self.color_buttons.values():
            b.setChecked(False)
        for w in self.findChildren(QWidget):
            w.blockSignals(False)
        self._tags.clear()
        self._persons.clear()
        self._folder = ""
        self._place_path, self._area = (), None
        self._rebuild_chips()
        self._rebuild_place_chips()
        if emit:
            self.schedule()

    def _add_typed_tag(self) -> None:
        self.add_tag(self.tag_input.text().strip())
        self.tag_input.clear()

    def _rebuild_chips(self) -> None:
        for layout in (self.tag_chips, self.person_chips):
            while layout.count():
                item = layout.takeAt(0)
                if item.widget():
                    item.widget().deleteLater()
        for name in self._tags:
            chip = QToolButton(text=f"{name}  ✕", toolTip=f"Remove the tag filter {name!r}")
            chip.setObjectName("tagChip")
            chip.clicked.connect(lambda _=False, n=name: self.remove_tag(n))
            self.tag_chips.addWidget(chip)
        for pid, label in self._persons:
            chip = QToolButton(text=f"{label}  ✕", toolTip=f"Remove the person filter {label!r}")
            chip.setObjectName("personChip")
            chip.clicked.connect(lambda _=False, p=pid: self.remove_person(p))
            self.person_chips.addWidget(chip)


def _choice(choices: tuple[tuple[str, tuple[str, ...]], ...], values: tuple[str, ...]) -> int:
    return next((i for i, (_, v) in enumerate(choices) if set(v) == set(values)), 0)


def _banner(name: str, label: QLabel, clear: QPushButton, frame_style: str, label_style: str) -> QWidget:
    """A strip over the grid saying which special view is on (similar photos, a collection), with Clear."""
    banner = QWidget(objectName=name)
    banner.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
    banner.setStyleSheet(f"#{name} {{ {frame_style} border-radius: 4px; }} #{name} QLabel {{ {label_style} }}")
    row = QHBoxLayout(banner)
    row.setContentsMargins(8, 2, 4, 2)
    row.addWidget(label, 1)
    row.addWidget(clear)
    banner.hide()
    return banner

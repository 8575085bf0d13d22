"""Preferences (Edit > Preferences…, Ctrl+,): the auto-tagging threshold with a live preview of what
it would apply, writing XMP sidecars as you edit, and the theme. The dialog only collects values;
the main window applies them (a new threshold re-tags the library in the JobRunner)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from app.core.catalog.facets import AutoTagPreview
from app.core.catalog.models import Categorization
from app.core.library import Library
from app.gui.theme import THEMES

MIN_THRESHOLD, MAX_THRESHOLD = 0.05, 0.95  # the tagger stores matches from 0.05 (tagging.MIN_CONFIDENCE)
PREVIEW_MAX_RECORDS = 60_000  # beyond this, reading every categorization takes seconds: no live preview


@dataclass
class RetagResult:
    photos: int
    threshold: float
    failed: tuple[tuple[str, str], ...] = ()

    def summary(self) -> str:
        return f"Auto tags re-applied to {self.photos:,} photos at {self.threshold:.0%} confidence"


class SettingsDialog(QDialog):
    def __init__(self, lib: Library, theme: str, busy: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.setMinimumWidth(480)
        self.initial_threshold = lib.auto_tagging
        records = Categorization.select().where(Categorization.status == "complete").count()
        self.preview = AutoTagPreview() if records <= PREVIEW_MAX_RECORDS else None
        self.analyzed = records

        self.slider = QSlider(Qt.Orientation.Horizontal, minimum=round(MIN_THRESHOLD * 100),
                              maximum=round(MAX_THRESHOLD * 100))  # fmt: skip
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setTickInterval(10)
        self.spin = QDoubleSpinBox(minimum=MIN_THRESHOLD, maximum=MAX_THRESHOLD, singleStep=0.01, decimals=2)
        self.spin.setToolTip("Minimum confidence for a tag to be applied automatically")
        self.preview_label = QLabel()
        self.preview_label.setObjectName("preview")
        # two lines always reserved: the dialog does not jump as the slider moves
        self.preview_label.setMinimumHeight(2 * self.preview_label.fontMetrics().lineSpacing() + 4)
        self.busy_label = QLabel("A job is running: the threshold can change when it has finished.", wordWrap=True)
        self.busy_label.setVisible(busy)
        self.auto_write = QCheckBox("Write XMP sidecars when I edit tags or ratings")
        self.auto_write.setToolTip("Keeps <photo>.xmp beside each photo up to date for Lightroom, darktable, digiKam")
        self.auto_write.setChecked(lib.auto_write_sidecars)
        self.theme_combo = QComboBox()
        self.theme_combo.addItems([t.capitalize() for t in THEMES])
        self.theme_combo.setCurrentIndex(THEMES.index(theme) if theme in THEMES else 0)

        tagging = QGroupBox("Automatic tags")
        row = QHBoxLayout()
        row.addWidget(self.slider, 1)
        row.addWidget(self.spin)
        tag_layout = QVBoxLayout(tagging)
        tag_layout.addWidget(QLabel("Apply a tag when the classifier is at least this sure:"))
        tag_layout.addLayout(row)
        tag_layout.addWidget(self.preview_label)
        tag_layout.addWidget(self.busy_label)
        for w in (self.slider, self.spin):
            w.setEnabled(not busy)
        sidecars = QGroupBox("XMP sidecars")
        QVBoxLayout(sidecars).addWidget(self.auto_write)
        look = QGroupBox("Appearance")
        QFormLayout(look).addRow("Theme", self.theme_combo)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for w in (tagging, sidecars, look):
            layout.addWidget(w)
        layout.addWidget(buttons)

        self.slider.valueChanged.connect(lambda v: self.spin.setValue(v / 100))
        self.spin.valueChanged.connect(self._threshold_changed)
        self.spin.setValue(self.initial_threshold)
        self._threshold_changed(self.spin.value())

    def _threshold_changed(self, value: float) -> None:
        self.slider.blockSignals(True)  # the two controls follow each other without a loop
        self.slider.setValue(round(value * 100))
        self.slider.blockSignals(False)
        if self.preview is None:
            self.preview_label.setText(f"{self.analyzed:,} tag records: too many for a live preview.")
            return
        tags, photos = self.preview.at(value)
        now_tags, now_photos = self.preview.at(self.initial_threshold)
        text = f"At {value:.0%}: {tags:,} automatic tags on {photos:,} photos"
        if abs(value - self.initial_threshold) > 1e-9:
            text += f"\nNow, at {self.initial_threshold:.0%}: {now_tags:,} tags on {now_photos:,} photos"
        self.preview_label.setText(text)

    # -- values -----------------------------------------------------------------------------------
    def threshold(self) -> float:
        return round(self.spin.value(), 2)

    def threshold_changed(self) -> bool:
        return abs(self.threshold() - self.initial_threshold) > 1e-9

    def auto_write_sidecars(self) -> bool:
        return self.auto_write.isChecked()

    def theme(self) -> str:
        return THEMES[self.theme_combo.currentIndex()]

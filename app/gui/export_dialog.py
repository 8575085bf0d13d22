"""The Export dialog: where, which format and size, quality, sharpening, what metadata, the file
names (with a preview of the first one), and presets saved by name. Export itself runs as a job of
the main window (progress, ETA, Cancel, errors per file)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from app.core import export
from app.core.catalog.models import Photo
from app.core.export import ExportSettings

SIZES = ("Full size", "Long edge (px)", "Megapixels")
METADATA_TEXT = {"all": "All", "no-location": "All but location", "copyright": "Copyright only", "none": "None"}
FOLDER_SETTING = "export_folder"


class ExportDialog(QDialog):
    export_requested = Signal(Path, ExportSettings)

    def __init__(self, lib: Any, photo_ids: list[int], what: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lib = lib
        self.photo_ids = photo_ids
        self.setWindowTitle(f"Export {len(photo_ids):,} photo{'s' if len(photo_ids) != 1 else ''}")
        self.folder = QLineEdit(lib.setting(FOLDER_SETTING) or str(Path.home() / "Pictures" / "Export"))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.format = QComboBox()
        self.format.addItems(["JPEG", "PNG", "WebP", "Original"])
        self.size_mode = QComboBox()
        self.size_mode.addItems(list(SIZES))
        self.long_edge = QSpinBox(minimum=16, maximum=65000, value=2048, suffix=" px")
        self.megapixels = QDoubleSpinBox(minimum=0.1, maximum=500, value=12, decimals=1, suffix=" MP")
        self.quality = QSpinBox(minimum=1, maximum=100, value=85)
        self.sharpen = QComboBox()
        self.sharpen.addItems(["Off", "Low (for screens)"])
        self.metadata = QComboBox()
        for key, text in METADATA_TEXT.items():
            self.metadata.addItem(text, key)
        self.template = QLineEdit("{name}")
        self.template.setToolTip("Fields: " + ", ".join("{" + f + "}" for f in export.TEMPLATE_FIELDS)
                                 + "\ne.g. {date:%Y%m%d}_{name}_{seq:03}")  # fmt: skip
        self.preview = QLabel()
        self.presets = QComboBox()
        save_preset = QPushButton("Save Preset…")
        save_preset.clicked.connect(self._save_preset)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        self.buttons.accepted.connect(self._export)
        self.buttons.rejected.connect(self.reject)

        form = QFormLayout(self)
        form.addRow(QLabel(f"Exporting {what}; originals are never changed, nothing is overwritten."))
        row = QHBoxLayout()
        row.addWidget(self.presets, 1)
        row.addWidget(save_preset)
        form.addRow("Preset", row)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        form.addRow("To folder", row)
        form.addRow("Format", self.format)
        row = QHBoxLayout()
        for w in (self.size_mode, self.long_edge, self.megapixels):
            row.addWidget(w)
        form.addRow("Size", row)
        form.addRow("Quality", self.quality)
        form.addRow("Sharpening", self.sharpen)
        form.addRow("Metadata", self.metadata)
        form.addRow("File names", self.template)
        form.addRow("", self.preview)
        form.addRow(self.buttons)

        for signal in (self.format.currentIndexChanged, self.size_mode.currentIndexChanged,
                       self.template.textChanged):  # fmt: skip
            signal.connect(self._update)
        self.presets.activated.connect(self._apply_preset)
        self._fill_presets()
        self._update()

    # -- settings <-> widgets -------------------------------------------------------------------------
    def settings(self) -> ExportSettings:
        mode = self.size_mode.currentIndex()
        return ExportSettings(
            format=("jpeg", "png", "webp", "original")[self.format.currentIndex()],
            long_edge=self.long_edge.value() if mode == 1 else None,
            megapixels=self.megapixels.value() if mode == 2 else None,
            quality=self.quality.value(),
            sharpen=("off", "low")[self.sharpen.currentIndex()],
            metadata=self.metadata.currentData(),
            template=self.template.text(),
        )

    def show_settings(self, s: ExportSettings) -> None:
        self.format.setCurrentIndex(export.FORMATS.index(s.format))
        self.size_mode.setCurrentIndex(1 if s.long_edge else (2 if s.megapixels else 0))
        if s.long_edge:
            self.long_edge.setValue(s.long_edge)
        if s.megapixels:
            self.megapixels.setValue(s.megapixels)
        self.quality.setValue(s.quality)
        self.sharpen.setCurrentIndex(export.SHARPENING.index(s.sharpen))
        self.metadata.setCurrentIndex(export.METADATA.index(s.metadata))
        self.template.setText(s.template)
        self._update()

    def _update(self) -> None:
        original = self.format.currentIndex() == 3
        for w in (self.size_mode, self.sharpen):
            w.setEnabled(not original)
        mode = self.size_mode.currentIndex()
        self.long_edge.setVisible(mode == 1 and not original)
        self.megapixels.setVisible(mode == 2 and not original)
        self.quality.setEnabled(self.format.currentIndex() in (0, 2))
        ok = True
        try:
            s = self.settings().check()
            first = Photo.get_by_id(self.photo_ids[0])
            ext = export.EXTENSIONS.get(s.format) or Path(first.filename).suffix.lower()
            self.preview.setText(
                "First file: " + export.render_name(s.template, export.template_values(first), 1) + ext
            )
        except ValueError as exc:
            self.preview.setText(f"<span style='color:#d33'>{exc}</span>")
            ok = False
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)

    # -- presets and folder -----------------------------------------------------------------------------
    def _fill_presets(self) -> None:
        self.presets.clear()
        self.presets.addItem("(current settings)")
        self.presets.addItems(sorted(export.presets()))

    def _apply_preset(self, index: int) -> None:
        if index > 0:
            self.show_settings(export.presets()[self.presets.itemText(index)])

    def _save_preset(self) -> None:
        name, ok = QInputDialog.getText(self, "Save Preset", "Preset name:")
        if ok and name.strip():
            export.save_preset(self.lib, name, self.settings())
            self._fill_presets()
            self.presets.setCurrentText(name.strip())

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export to folder", self.folder.text())
        if folder:
            self.folder.setText(folder)

    def _export(self) -> None:
        folder = Path(self.folder.text().strip()).expanduser()
        self.lib.set_setting(FOLDER_SETTING, str(folder))
        self.export_requested.emit(folder, dataclasses.replace(self.settings()))
        self.accept()

"""The New Collection dialog, as Lightroom's: a name, the set to put it in, and for a collection
whether to add the selected photos and make it the target collection (where B adds photos)."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLineEdit, QWidget

from app.core import collections


class NewCollectionDialog(QDialog):
    def __init__(self, parent: QWidget | None, what: str, selected: int) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"New {what}")
        self._selected = selected
        self.name_edit = QLineEdit(placeholderText=f"Name of the {what.lower()}")
        self.set_combo = QComboBox()
        self.set_combo.addItem("(top level)", None)
        for info in collections.listing(counts=False):
            if info.kind == collections.SET:
                self.set_combo.addItem(info.path, info.id)
        self.add_box = QCheckBox(f"Add the {selected:,} selected photo{'s' if selected != 1 else ''}")
        self.add_box.setChecked(selected > 0)
        self.add_box.setVisible(selected > 0)
        self.target_box = QCheckBox("Make it the target collection (B adds photos to it)")
        self.target_box.setVisible(what == "Collection")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Name", self.name_edit)
        form.addRow("In set", self.set_combo)
        form.addRow(self.add_box)
        form.addRow(self.target_box)
        form.addRow(buttons)
        self.name_edit.textChanged.connect(
            lambda text: buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(text.strip()))
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(False)

    def name(self) -> str:
        return self.name_edit.text().strip()

    def parent_id(self) -> int | None:
        return self.set_combo.currentData()

    def add_selected(self) -> bool:
        return self._selected > 0 and self.add_box.isChecked()

    def make_target(self) -> bool:
        return self.target_box.isChecked()

"""What an empty library shows in place of the grid: what Tessera does, a button to import a folder,
the drop hint, and where the library lives."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

INTRO = (
    "Tessera keeps a library of your photos where they are. It reads their EXIF and GPS, and analyzes "
    "each one offline: colours, faces, tags, duplicates. Then you filter, rate, flag and label, gather "
    "photos into collections and export them for others. Your original files are never changed."
)


class WelcomePage(QWidget):
    import_requested = Signal()

    def __init__(self, library: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcome")
        title = QLabel("<h1>Welcome to Tessera</h1>")
        intro = QLabel(INTRO, wordWrap=True)
        intro.setFixedWidth(560)
        intro.setMinimumHeight(intro.heightForWidth(560))  # every wrapped line, in a centred layout too
        self.import_button = QPushButton("Import Folder…")
        self.import_button.setDefault(True)
        self.import_button.setMinimumHeight(36)
        self.import_button.clicked.connect(self.import_requested)
        drop = QLabel("or drop a folder of photos anywhere on this window", objectName="dropHint")
        self.location = QLabel(f"Library: {library}", wordWrap=True,
                               textInteractionFlags=Qt.TextInteractionFlag.TextSelectableByMouse)  # fmt: skip
        self.location.setFixedWidth(560)
        for label in (drop, self.location):
            label.setStyleSheet("color: palette(placeholder-text);")
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        for w in (title, intro, self.import_button, drop, self.location):
            layout.addWidget(w, 0, Qt.AlignmentFlag.AlignHCenter)
            layout.addSpacing(8)
        layout.addStretch(3)
        for label in (title, intro, drop, self.location):
            label.setAlignment(Qt.AlignmentFlag.AlignHCenter)

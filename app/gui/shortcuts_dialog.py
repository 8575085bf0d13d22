"""Help > Keyboard Shortcuts: every menu entry (with its menu path) and its key, then the keys that
only the viewer knows."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QMenu, QMenuBar, QTableWidget, QTableWidgetItem, QVBoxLayout

VIEWER_KEYS = (("Viewer > Fit / 100%", "F / Z"), ("Viewer > Rate / reject", "0-5 / X"),
               ("Viewer > Faces overlay", "O"), ("Viewer > Next / previous", "→ / ←"),
               ("Viewer > Fullscreen", "F11"))  # fmt: skip


def menu_rows(bar: QMenuBar) -> list[tuple[str, str]]:
    """("Photo > Flag > Flagged (Pick)", "P") for every entry of every menu, in menu order."""
    rows: list[tuple[str, str]] = []

    def walk(menu: QMenu, path: str) -> None:
        for action in menu.actions():
            if action.isSeparator():
                continue
            text = f"{path} > {action.text().replace('&', '')}"
            if action.menu() is not None:
                walk(action.menu(), text)  # type: ignore[arg-type]
            else:
                rows.append((text, action.shortcut().toString()))

    for top in bar.actions():
        if top.menu() is not None:
            walk(top.menu(), top.text().replace("&", ""))  # type: ignore[arg-type]
    return rows


class ShortcutsDialog(QDialog):
    def __init__(self, bar: QMenuBar, parent: QMenuBar | None = None) -> None:
        super().__init__(parent or bar.window())
        self.setWindowTitle("Keyboard Shortcuts")
        rows = [*menu_rows(bar), *VIEWER_KEYS]
        self.table = QTableWidget(len(rows), 2)
        self.table.setHorizontalHeaderLabels(["Menu command", "Key"])
        for i, (command, key) in enumerate(rows):
            self.table.setItem(i, 0, QTableWidgetItem(command))
            self.table.setItem(i, 1, QTableWidgetItem(key))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(560, 640)

    def rows(self) -> list[tuple[str, str]]:
        return [(self.table.item(i, 0).text(), self.table.item(i, 1).text()) for i in range(self.table.rowCount())]

"""Starting the desktop app."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from app import __version__
from app.core.errors import TesseraError
from app.core.library import ENV_VAR, Library
from app.gui.theme import apply_theme

# resources/ beside app/ in a checkout and inside a PyInstaller build (packaging/tessera.spec)
ICON = Path(__file__).resolve().parents[2] / "resources" / "icons" / "io.github.tessera.Tessera.png"


def make_app() -> QApplication:
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("Tessera")
    app.setOrganizationName("Tessera")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("io.github.tessera.Tessera")
    if ICON.is_file():  # desktops that go by the .desktop file's Icon= find the installed one instead
        app.setWindowIcon(QIcon(str(ICON)))
    return app  # type: ignore[return-value]


def run_gui(library_path: Path | None, catalog: str | None = None) -> int:
    from app.gui.main_window import MainWindow
    from app.gui.studio import ask_for_missing_roots

    app = make_app()
    settings = QSettings("Tessera", "Tessera")
    apply_theme(app, str(settings.value("theme", "system")))
    if library_path is None and not os.environ.get(ENV_VAR) and settings.value("lastLibrary"):
        library_path = Path(str(settings.value("lastLibrary")))
    try:
        lib = Library.open(library_path, catalog=catalog)
    except TesseraError as exc:  # corrupt or locked catalog: say what to do instead of a traceback
        QMessageBox.critical(None, "Tessera cannot open the library", str(exc))
        return 1
    shown: dict[str, MainWindow] = {}

    def show(library: Library) -> None:
        """A window on `library`, in place of the one before (File > Open Studio Catalog…)."""
        old = shown.get("window")
        if old is not None:
            old.close()
            old.lib.close()
        window = MainWindow(library, settings)
        window.library_opened.connect(show)
        shown["window"] = window
        window.show()
        QTimer.singleShot(0, lambda: ask_for_missing_roots(window, library))

    show(lib)
    try:
        return app.exec()
    finally:
        shown["window"].lib.close()

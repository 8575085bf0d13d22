"""The README's main-window screenshots, made the same way each time: the corpus' exif/ and faces/
folders imported and analyzed into a temporary library, a few photos rated and tagged by hand, the
window at 1760x950 in the dark and light themes. Runs offscreen (no X server needed).

    .venv/bin/python scripts/make_screenshots.py [OUT_DIR]   (default docs/screenshots)
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QItemSelectionModel, QSettings  # noqa: E402

from app.core import tags  # noqa: E402
from app.core.catalog.models import Photo  # noqa: E402
from app.core.library import Library  # noqa: E402
from app.gui.app import make_app  # noqa: E402
from app.gui.theme import apply_theme  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"
RATINGS = {"obama.jpg": 5, "biden.jpg": 4, "gps_nyc.jpg": 3, "piexif_01.tif": 2, "kpa_snow.jpg": -1}
SELECTED = "obama.jpg"


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    app = make_app()
    from app.gui.main_window import MainWindow

    with tempfile.TemporaryDirectory() as tmp, Library.open(Path(tmp) / "lib", auto_backup=False) as lib:
        lib.import_folders([CORPUS / "exif", CORPUS / "faces"])
        for name, rating in RATINGS.items():
            ids = [p.id for p in Photo.select(Photo.id).where(Photo.filename == name)]
            tags.set_rating(lib, ids, rating)
        for theme in ("dark", "light"):
            apply_theme(app, theme)
            window = MainWindow(lib, QSettings(str(Path(tmp) / f"{theme}.ini"), QSettings.Format.IniFormat))
            window.resize(1760, 950)
            window.show()
            row = window.model.row_of(Photo.get(Photo.filename == SELECTED).id)
            if row is not None:
                index = window.model.index(row)
                window.grid.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
                window.grid.scrollTo(index)
            settle = time.monotonic() + 3  # thumbnails arrive from the loader threads
            while time.monotonic() < settle:
                app.processEvents()
                time.sleep(0.02)
            window.grab().save(str(out / f"main-{theme}.png"))
            window.close()
            print(f"wrote {out / f'main-{theme}.png'}")


if __name__ == "__main__":
    main()

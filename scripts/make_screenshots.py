"""The README's screenshots, made the same way each time from the corpus: its exif/, faces/ and
people/kphotoalbum/ folders imported and analyzed into a temporary library, a few photos rated, two
groups named, then the main window (dark and light), the inspector, the viewer with face boxes, the
map with the Places tree, the People window, the duplicate review on dupes/ and an import in progress. They show the corpus' photos, which are not ours to publish: they are written to
docs/screenshots/ (ignored by git), not committed. Runs offscreen (no X server needed).

    .venv/bin/python scripts/make_screenshots.py [OUT_DIR]   (default docs/screenshots)
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QItemSelectionModel, QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from app.core import tags  # noqa: E402
from app.core.catalog.models import Photo  # noqa: E402
from app.core.catalog.people import person_summaries  # noqa: E402
from app.core.library import Library  # noqa: E402
from app.core.people import persons  # noqa: E402
from app.gui.app import make_app  # noqa: E402
from app.gui.main_window import MainWindow  # noqa: E402
from app.gui.theme import apply_theme  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"
RATINGS = {"obama.jpg": 5, "biden.jpg": 4, "gps_nyc.jpg": 3, "piexif_01.tif": 2, "kpa_snow.jpg": -1}
SELECTED = "obama.jpg"
WITH_FACES = "kpa_bar55.jpg"
PLACE_PHOTO = "gps_sydney.jpg"


def settle(until: Callable[[], bool] = lambda: False, seconds: float = 3.0) -> None:
    """Let loader threads and background jobs deliver, up to `seconds` or until `until()`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not until():
        QApplication.processEvents()
        time.sleep(0.02)
    QApplication.processEvents()


def save(widget: QWidget, out: Path, name: str) -> None:
    widget.grab().save(str(out / name))
    print(f"wrote {out / name}")


def select(window: MainWindow, filename: str) -> None:
    row = window.model.row_of(Photo.get(Photo.filename == filename).id)
    if row is not None:
        index = window.model.index(row)
        window.grid.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        window.grid.scrollTo(index)


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    app = make_app()
    with tempfile.TemporaryDirectory() as tmp, Library.open(Path(tmp) / "lib", auto_backup=False) as lib:
        lib.import_folders([CORPUS / "exif", CORPUS / "faces", CORPUS / "people" / "kphotoalbum"])
        groups = sorted((s for s in person_summaries() if s.name is None and s.id > 0), key=lambda s: -s.faces)
        for group, name in zip(groups, ("Anne Helene", "Jesper"), strict=False):
            persons.name(lib, group.id, name)
        for name, rating in RATINGS.items():
            tags.set_rating(lib, [p.id for p in Photo.select(Photo.id).where(Photo.filename == name)], rating)

        def window(theme: str) -> MainWindow:
            apply_theme(app, theme)
            win = MainWindow(lib, QSettings(str(Path(tmp) / f"{theme}.ini"), QSettings.Format.IniFormat))
            win.resize(1760, 950)
            win.show()
            return win

        light = window("light")
        select(light, SELECTED)
        settle()
        save(light, out, "main-light.png")
        light.close()

        dark = window("dark")
        select(dark, SELECTED)
        settle()
        save(dark, out, "main-dark.png")
        save(dark.inspector_dock, out, "inspector.png")

        select(dark, PLACE_PHOTO)  # the map under the grid, the Places tree and the place in the inspector
        dark.where_when.dock.show()
        for section, expanded in (("Folders", False), ("Tags", False), ("Places", True), ("Timeline", True)):
            dark.sidebar.sections[section].setExpanded(expanded)
        settle()
        dark.where_when.map.fit()
        settle()
        save(dark, out, "map-places.png")
        dark.inspector.ensureWidgetVisible(dark.inspector.gps_box)
        settle()
        save(dark.inspector_dock, out, "inspector-place.png")
        dark.where_when.dock.hide()

        select(dark, WITH_FACES)
        viewer = dark.open_viewer()
        settle(lambda: "loading" not in viewer.status.text(), seconds=10)
        save(viewer, out, "viewer-faces.png")
        viewer.close()

        dark.start_import([CORPUS / "dupes"])  # an import under way: counts, rate, ETA, current file
        settle(seconds=4)
        save(dark, out, "import-progress.png")
        settle(lambda: not dark.runner.is_running(), seconds=300)

        people = dark.show_people()  # named persons, then the unnamed groups
        people.resize(1500, 900)
        settle(seconds=3)
        save(people, out, "people.png")
        people.close()

        review = dark.review_duplicates()
        review.resize(1500, 900)
        settle(lambda: review.cluster_list.count() > 0 and not review.runner.is_running(), seconds=60)
        settle(seconds=2)  # the compare view's images
        save(review, out, "dupes-review.png")
        review.close()
        dark.close()


if __name__ == "__main__":
    main()

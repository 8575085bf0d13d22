"""Kill -9 during import and analysis, of the CLI and of the desktop app: the catalog stays sound, no
worker outlives the app, and a second run completes exactly."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from app.core.records import STAGES

ROOT = Path(__file__).resolve().parents[2]
SUFFIXES = {".jpg", ".png", ".webp"}


def _tree(corpus: Path, dst: Path) -> int:
    count = 0
    for folder in ("dupes", "faces"):
        target = dst / folder
        target.mkdir(parents=True)
        for p in sorted((corpus / folder).iterdir()):
            if p.suffix.lower() in SUFFIXES:
                shutil.copy2(p, target / p.name)
                count += 1
    return count


def _tessera(lib: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "app", "--library", str(lib), *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: SIGKILL reaches the workers too
    )


def _kill_after(proc: subprocess.Popen[bytes], seconds: float) -> bool:
    """SIGKILL the whole group after `seconds`; False if it had already finished."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return True


def check_sound(catalog: Path) -> dict[str, int]:
    """Asserts the catalog is intact after a crash; photo and done-stage counts. Also used by
    tests/packaging/test_frozen_app.py."""
    con = sqlite3.connect(catalog)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        # no half-written photo: every committed row is complete for what its status claims
        half = con.execute(
            "SELECT COUNT(*) FROM photo WHERE status = 'ok' AND (width IS NULL OR height IS NULL "
            "OR format IS NULL OR sha256 IS NULL)"
        ).fetchone()[0]
        assert half == 0
        # a stage marked done has its result stored (same transaction)
        hashes_without_phash = con.execute(
            "SELECT COUNT(*) FROM stage_state s JOIN photo p ON p.id = s.photo_id "
            "WHERE s.stage = 'hashes' AND s.status = 'done' AND p.phash IS NULL"
        ).fetchone()[0]
        assert hashes_without_phash == 0
        dup_paths = con.execute("SELECT COUNT(*) - COUNT(DISTINCT path) FROM photo").fetchone()[0]
        assert dup_paths == 0
        return {
            "photos": con.execute("SELECT COUNT(*) FROM photo").fetchone()[0],
            "stages": con.execute("SELECT COUNT(*) FROM stage_state WHERE status = 'done'").fetchone()[0],
        }
    finally:
        con.close()


@dataclass
class Run:
    """A photo tree to import into an empty library, and what a complete import holds."""

    photos: Path
    lib: Path
    expected_photos: int

    @property
    def catalog(self) -> Path:
        return self.lib / "catalog.sqlite"

    @property
    def expected_stages(self) -> int:  # every analysis stage and the metadata, once per photo
        return self.expected_photos * (len(STAGES) + 1)

    def finish_and_check(self) -> None:
        """A second plain import after the crash completes exactly."""
        assert _tessera(self.lib, "import", str(self.photos)).wait(600) == 0
        final = check_sound(self.catalog)
        assert final == {"photos": self.expected_photos, "stages": self.expected_stages}


@pytest.fixture
def run(tmp_path: Path, corpus: Path) -> Run:
    photos = tmp_path / "photos"
    return Run(photos=photos, lib=tmp_path / "lib", expected_photos=_tree(corpus, photos))


@pytest.mark.timeout(900)
def test_sigkill_during_import_and_analysis(run: Run) -> None:
    progress = []
    # kill points spread over the run: import and analysis happen per photo in the same pass
    for delay in (2.5, 4.0, 5.5):
        if _kill_after(_tessera(run.lib, "import", str(run.photos)), delay):
            progress.append(check_sound(run.catalog))
    assert len(progress) >= 2, "the import finished before the kill points; make the tree larger"
    assert progress[-1]["photos"] >= progress[0]["photos"]
    run.finish_and_check()


# The desktop app as a user runs it: MainWindow over the library, importing a folder as "Import
# folder…" does. A driver instead of a product flag: nothing in the app starts an import by itself.
GUI_DRIVER = """
import sys
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer

from app.core.library import Library
from app.gui.app import make_app
from app.gui.main_window import MainWindow

library, folder, settings = sys.argv[1:4]
app = make_app()
lib = Library.open(Path(library))
window = MainWindow(lib, QSettings(settings, QSettings.Format.IniFormat))
window.show()
QTimer.singleShot(0, lambda: window.start_import([Path(folder)]))
sys.exit(app.exec())
"""


def _analysis_done(catalog: Path) -> int:
    """Analysis stages marked done so far (metadata is read at import, not by the workers)."""
    if not catalog.exists():
        return 0
    con = sqlite3.connect(f"file:{catalog}?mode=ro", uri=True, timeout=5)
    try:
        query = "SELECT COUNT(*) FROM stage_state WHERE status = 'done' AND stage != 'metadata'"
        return con.execute(query).fetchone()[0]
    except sqlite3.OperationalError:  # tables not created yet
        return 0
    finally:
        con.close()


@pytest.mark.timeout(900)
def test_sigkill_of_the_gui_during_analysis(run: Run, tmp_path: Path) -> None:
    log = tmp_path / "gui.log"  # a file, not a pipe nobody reads once the app is dead: workers share it
    with log.open("wb") as stderr:
        gui = subprocess.Popen(
            [sys.executable, "-c", GUI_DRIVER, str(run.lib), str(run.photos), str(tmp_path / "settings.ini")],
            cwd=ROOT,
            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,  # only for the clean-up below: the kill itself hits the app alone
        )
    children: list[psutil.Process] = []
    try:
        # kill once the workers are well into the analysis, not before it starts
        deadline = time.monotonic() + 300
        while _analysis_done(run.catalog) < 10:
            assert gui.poll() is None, f"the app exited early: {log.read_text(errors='replace')[-3000:]}"
            assert time.monotonic() < deadline, "no analysis progress in 5 minutes"
            time.sleep(0.1)
        children = psutil.Process(gui.pid).children(recursive=True)
        assert len(children) >= 2, "expected worker processes under the app"
        # SIGKILL to the app only, as the OOM killer or a crash would: the workers must notice by
        # themselves that their parent is gone (workers._worker_main) and exit
        os.kill(gui.pid, signal.SIGKILL)
        gui.wait()
        _, alive = psutil.wait_procs(children, timeout=20)
        assert not alive, f"orphan processes outlived the app: {[(p.pid, p.cmdline()[:3]) for p in alive]}"
    finally:
        for p in children:  # never leave them behind, even when the assertion above failed
            with contextlib.suppress(psutil.NoSuchProcess):
                p.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(gui.pid, signal.SIGKILL)
        gui.wait()

    partial = check_sound(run.catalog)
    assert partial["stages"] < run.expected_stages, "the import had finished before the kill"
    run.finish_and_check()

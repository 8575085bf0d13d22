"""Kill -9 during import and analysis: the catalog stays sound and a second run completes exactly."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.core.analysis.work import STAGES

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


def _check_sound(catalog: Path) -> dict[str, int]:
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


@pytest.mark.timeout(900)
def test_sigkill_during_import_and_analysis(tmp_path: Path, corpus: Path) -> None:
    photos = tmp_path / "photos"
    expected = _tree(corpus, photos)
    lib = tmp_path / "lib"
    catalog = lib / "catalog.sqlite"
    progress = []
    # kill points spread over the run: import and analysis happen per photo in the same pass
    for delay in (2.5, 4.0, 5.5):
        if _kill_after(_tessera(lib, "import", str(photos)), delay):
            progress.append(_check_sound(catalog))
    assert len(progress) >= 2, "the import finished before the kill points; make the tree larger"
    assert progress[-1]["photos"] >= progress[0]["photos"]
    done = _tessera(lib, "import", str(photos))
    assert done.wait(600) == 0
    final = _check_sound(catalog)
    assert final["photos"] == expected
    # every photo has every analysis stage and its metadata marked done, exactly once
    assert final["stages"] == expected * (len(STAGES) + 1)

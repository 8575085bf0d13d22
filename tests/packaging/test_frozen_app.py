"""The PyInstaller one-folder build works without the dev environment: it imports and analyzes real
photos exactly as the source tree does (every decoder, both models, the worker processes), and its
desktop app starts on an X server and ends on SIGTERM.

Builds packaging/tessera.spec with packaging/build.sh into a temporary folder (about 40 s on two
cores, ~520 MB), once for the module.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import select
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.core.test_crash_safety import check_sound
from tests.packaging import require_tool

ROOT = Path(__file__).resolve().parents[2]
# formats/: every container and decoder (HEIF/AVIF via pillow_heif, the DNG via rawpy); exif/: real
# camera files, some with faces
FOLDERS = ("formats", "exif")
BUILD_TIMEOUT_S = 900
GUI_ALIVE_S = 5.0

pytestmark = pytest.mark.timeout(BUILD_TIMEOUT_S + 600)


def _clean_env(home: Path, **extra: str) -> dict[str, str]:
    """What a user's session might have: no PYTHONPATH, no venv, nothing from this test run."""
    runtime = home / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    return {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", "XDG_RUNTIME_DIR": str(runtime), **extra}


@pytest.fixture(scope="module")
def frozen_exe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if importlib.util.find_spec("PyInstaller") is None:
        message = "PyInstaller is not installed (pip install -e '.[package]'; packaging/install.sh --test does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    out = tmp_path_factory.mktemp("frozen")
    started = time.monotonic()
    build = subprocess.run(
        ["bash", str(ROOT / "packaging" / "build.sh"), str(out / "dist"), str(out / "build")],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
    )
    assert build.returncode == 0, build.stdout[-5000:] + build.stderr[-5000:]
    print(f"PyInstaller build took {time.monotonic() - started:.0f} s")
    exe = out / "dist" / "tessera" / "tessera"
    assert exe.is_file() and os.access(exe, os.X_OK)
    return exe


@pytest.fixture(scope="module")
def frozen_library(
    frozen_exe: Path, corpus: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, Path]]:
    """(home, library) after `tessera import` of the corpus folders by the frozen build."""
    home = tmp_path_factory.mktemp("home")
    lib = home / "lib"
    result = subprocess.run(
        [str(frozen_exe), "--library", str(lib), "import", *(str(corpus / f) for f in FOLDERS), "--json"],
        env=_clean_env(home),
        cwd=home,  # nothing importable from the working directory either
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-5000:]
    # a stage that failed in a worker (a missing model file, a decoder not collected) is a warning
    assert "warning:" not in result.stderr, result.stderr[-5000:]
    report = json.loads(result.stdout)
    assert report["failed"] == [] and not report["cancelled"]
    yield home, lib


def _reference_import(corpus: Path, lib: Path) -> None:
    """The same import from the source tree, to compare with."""
    subprocess.run(
        [sys.executable, "-m", "app", "--library", str(lib), "import", *(str(corpus / f) for f in FOLDERS), "--quiet"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=600,
    )


def _catalog_summary(lib: Path) -> dict[str, object]:
    con = sqlite3.connect(lib / "catalog.sqlite")
    try:
        photos = {
            row[0]: row[1:]
            for row in con.execute(
                "SELECT path, status, format, width, height, frames, face_count, phash, dhash FROM photo"
            )
        }
        tags = sorted(
            con.execute(
                "SELECT p.path, t.name, pt.source, ROUND(pt.confidence, 2) FROM photo_tag pt "
                "JOIN photo p ON p.id = pt.photo_id JOIN tag t ON t.id = pt.tag_id"
            )
        )
        stages = dict(con.execute("SELECT stage, COUNT(*) FROM stage_state WHERE status = 'done' GROUP BY stage"))
        return {"photos": photos, "tags": tags, "stages": stages}
    finally:
        con.close()


def test_frozen_import_matches_the_source_tree(
    frozen_exe: Path, frozen_library: tuple[Path, Path], corpus: Path, tmp_path: Path
) -> None:
    home, lib = frozen_library
    _reference_import(corpus, tmp_path / "ref")
    frozen, ref = _catalog_summary(lib), _catalog_summary(tmp_path / "ref")
    assert len(frozen["photos"]) == len(ref["photos"]) > 90  # type: ignore[arg-type]
    # every file decoded to the same thing: a missing codec would show as a failed row or another size
    assert frozen["photos"] == ref["photos"]
    assert all(row[0] == "ok" for row in frozen["photos"].values())  # type: ignore[attr-defined]
    assert frozen["tags"] == ref["tags"]  # both models ran, with the same weights
    assert frozen["stages"] == ref["stages"]
    assert set(frozen["stages"].values()) == {len(frozen["photos"])}  # type: ignore[attr-defined, arg-type]

    # what a user sees: one photo with faces, with its colors, face boxes and tags
    con = sqlite3.connect(lib / "catalog.sqlite")
    try:
        photo_id = con.execute("SELECT id FROM photo WHERE face_count > 0 ORDER BY id LIMIT 1").fetchone()[0]
    finally:
        con.close()
    shown = subprocess.run(
        [str(frozen_exe), "--library", str(lib), "show", str(photo_id), "--json"],
        env=_clean_env(home),
        cwd=home,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    info = json.loads(shown.stdout)
    assert info["colors"] and info["predominant"]
    assert info["faces"]
    assert "person" in info["tags"]
    assert info["info"]["categorization"]["efficientnet_lite0"]["status"] == "complete"


def _read_display_number(fd: int, timeout_s: float = 30.0) -> str:
    """Xvfb writes the number and the newline in two writes: closing the pipe after the first one
    makes the second fail, and Xvfb exits on that ("Cannot write display number to fd"), so read up to
    the newline."""
    reported = b""
    deadline = time.monotonic() + timeout_s
    while not reported.endswith(b"\n"):
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        chunk = os.read(fd, 32) if ready else b""
        if not chunk:  # timed out, or the server exited
            break
        reported += chunk
    return reported.decode().strip()


def _start_xvfb() -> tuple[subprocess.Popen[bytes], str]:
    """Xvfb on a free display. A random high number rather than the first free one: a developer's
    own Xvfb on :0 or :99 (screenshots, xvfb-run) coming and going must not take ours down."""
    xvfb = require_tool("Xvfb", "xvfb")
    for number in random.sample(range(200, 900), 20):
        if Path(f"/tmp/.X{number}-lock").exists():
            continue
        read_fd, write_fd = os.pipe()
        proc = subprocess.Popen(
            # with a display number given, -displayfd reports it once the server accepts clients
            [xvfb, f":{number}", "-displayfd", str(write_fd), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
            pass_fds=(write_fd,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(write_fd)
        try:
            reported = _read_display_number(read_fd)
        finally:
            os.close(read_fd)
        if reported == str(number) and proc.poll() is None:
            return proc, f":{number}"
        proc.kill()  # taken meanwhile, or failed: try another number
        proc.wait()
    pytest.fail("Xvfb did not start")


def _mapped_files(pid: int) -> set[str]:
    with open(f"/proc/{pid}/maps", encoding="utf-8", errors="replace") as maps:
        return {line.split(None, 5)[5].strip() for line in maps if len(line.split(None, 5)) == 6}


def test_frozen_gui_starts_on_x_and_stops_on_sigterm(frozen_exe: Path, frozen_library: tuple[Path, Path]) -> None:
    home, lib = frozen_library
    xvfb, display = _start_xvfb()
    try:
        gui = subprocess.Popen(
            [str(frozen_exe), "--library", str(lib)],  # no subcommand: the desktop app
            env=_clean_env(home, DISPLAY=display),  # the real xcb platform, not offscreen
            cwd=home,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + GUI_ALIVE_S
            while time.monotonic() < deadline:
                if gui.poll() is not None:
                    out, err = gui.communicate()
                    x_state = "running" if xvfb.poll() is None else f"gone too (exit {xvfb.returncode})"
                    pytest.fail(f"the app exited with {gui.returncode} after start (Xvfb {x_state}):\n{out}\n{err}")
                time.sleep(0.1)
            # everything it loaded comes from the bundle or the system, nothing from the dev tree
            bundle = str(frozen_exe.parent)
            loaded = _mapped_files(gui.pid)
            assert any(path.startswith(bundle) and "libQt6XcbQpa" in path for path in loaded)
            assert not [p for p in loaded if p.startswith(str(ROOT))], "the build loaded files from the source tree"
            gui.send_signal(signal.SIGTERM)
            out, err = gui.communicate(timeout=15)
        finally:
            if gui.poll() is None:
                gui.kill()
                gui.wait()
        assert gui.returncode in (0, -signal.SIGTERM), err
        assert "Traceback" not in err, err
        check_sound(lib / "catalog.sqlite")
    finally:
        xvfb.terminate()
        xvfb.wait(10)

"""Two processes on one library at once: readers and a second writer never fail with "locked"."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _cli(lib: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "--library", str(lib), *args], cwd=ROOT, capture_output=True, text=True
    )


@pytest.mark.timeout(600)
def test_cli_reads_and_writes_while_another_process_imports(tmp_path: Path, corpus: Path) -> None:
    photos = tmp_path / "photos"
    shutil.copytree(corpus / "dupes", photos)
    lib = tmp_path / "lib"
    assert _cli(lib, "stats").returncode == 0  # create the library
    importer = subprocess.Popen(
        [sys.executable, "-m", "app", "--library", str(lib), "import", str(photos)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    results = []
    try:
        deadline = time.monotonic() + 300
        while importer.poll() is None and time.monotonic() < deadline:
            results.append(_cli(lib, "list", "--json"))
            results.append(_cli(lib, "stats", "--json"))
            results.append(_cli(lib, "analyze", "--auto-tagging", "0.5", "--stages", "hashes"))  # a writer
            results.append(_cli(lib, "backup"))
            if len(results) >= 16:
                break
    finally:
        _, err = importer.communicate(timeout=600)
    assert importer.returncode == 0, err
    assert len(results) >= 4
    for r in results:
        assert r.returncode == 0, (r.args, r.stderr)
        assert "locked" not in r.stderr.lower()
    images = sum(1 for p in photos.iterdir() if p.suffix.lower() in {".jpg", ".png", ".webp"})
    assert json.loads(_cli(lib, "stats", "--json").stdout)["photos"] == images

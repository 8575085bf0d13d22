"""The .desktop file and AppStream metainfo pass the freedesktop validators, and fit together."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.packaging import require_tool

ROOT = Path(__file__).resolve().parents[2]
APP_ID = "io.github.tessera.Tessera"
DESKTOP = ROOT / "packaging" / f"{APP_ID}.desktop"
METAINFO = ROOT / "packaging" / f"{APP_ID}.metainfo.xml"
ICONS = ROOT / "resources" / "icons"


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def test_desktop_file_validates() -> None:
    tool = require_tool("desktop-file-validate", "desktop-file-utils")
    result = _run(tool, str(DESKTOP))
    # it exits 0 on hints too; any line it prints is something to fix
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_metainfo_validates_strictly() -> None:
    tool = require_tool("appstreamcli", "appstream")
    # --strict fails on infos and warnings too; pedantic hints (the reverse-DNS id's capitals) pass
    result = _run(tool, "validate", "--no-net", "--strict", "--explain", str(METAINFO))
    assert result.returncode == 0, result.stdout + result.stderr


def test_installed_tree_validates(tmp_path: Path) -> None:
    """As a distribution installs them: validate-tree also checks the launchable .desktop exists."""
    tool = require_tool("appstreamcli", "appstream")
    share = tmp_path / "usr" / "share"
    for folder, src in (
        ("applications", DESKTOP),
        ("metainfo", METAINFO),
        ("icons/hicolor/scalable/apps", ICONS / f"{APP_ID}.svg"),
        ("icons/hicolor/256x256/apps", ICONS / f"{APP_ID}.png"),
    ):
        (share / folder).mkdir(parents=True)
        shutil.copy2(src, share / folder / src.name)
    result = _run(tool, "validate-tree", "--no-net", "--strict", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_files_agree_with_each_other_and_the_app() -> None:
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    entry.read(DESKTOP, encoding="utf-8")
    desktop = entry["Desktop Entry"]
    meta = ET.parse(METAINFO).getroot()
    assert meta.findtext("id") == APP_ID
    assert meta.find("launchable").text == DESKTOP.name  # type: ignore[union-attr]
    assert desktop["Icon"] == APP_ID
    # the CLI takes no file arguments without a subcommand: no %f/%F/%u/%U in Exec
    assert desktop["Exec"] == "tessera"
    assert meta.findtext("provides/binary") == "tessera"
    # the icon in both forms: the SVG for desktops, the 256 px PNG the window uses
    assert ET.parse(ICONS / f"{APP_ID}.svg").getroot().tag.endswith("svg")
    from PIL import Image

    with Image.open(ICONS / f"{APP_ID}.png") as png:
        assert png.size == (256, 256)


def test_window_uses_the_icon(qapp) -> None:  # type: ignore[no-untyped-def]
    from app.gui.app import ICON, make_app

    assert ICON.is_file()
    app = make_app()
    assert not app.windowIcon().isNull()
    assert app.desktopFileName() == APP_ID

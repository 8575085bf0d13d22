"""Tests of what ships: the desktop files and the PyInstaller build."""

from __future__ import annotations

import os
import shutil

import pytest


def require_tool(name: str, deb: str) -> str:
    """The path of a command-line tool. Missing in CI is a setup bug (packaging/install.sh --test
    installs it), so it fails there; on a developer's machine without it the test is skipped."""
    path = shutil.which(name)
    if path:
        return path
    message = f"{name} not found: install the Debian package {deb} (packaging/install.sh --test does)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)

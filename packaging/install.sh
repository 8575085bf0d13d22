#!/usr/bin/env bash
# Installs Tessera into ./.venv on a Debian/Ubuntu machine, with the system libraries Qt needs
# (installed with apt-get only when missing). `--test` also installs the test tools.
set -euo pipefail
cd "$(dirname "$0")/.."

extras=""
[ "${1:-}" = "--test" ] && extras="[test,package]"

# Shared libraries PySide6's wheels load (also headless, for the offscreen platform), the X11/xcb
# ones a real desktop session needs, and a font so text renders.
debs=(libegl1 libgl1 libopengl0 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libfreetype6 libdbus-1-3
      libglib2.0-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0
      libxcb-randr0 libxcb-render-util0 libxcb-image0 libxcb-xkb1 libx11-xcb1 fonts-dejavu-core
      python3-venv)
# The tests also validate the desktop files, build with PyInstaller (objdump), run the build's GUI
# on a virtual X server, read what Export and export-xmp wrote with exiftool as a real client (it
# also plays the other app in the XMP face-region tests), and run the catalog tests on a throwaway
# PostgreSQL server (tests/pg.py: initdb and pg_ctl from /usr/lib/postgresql/NN/bin; no cluster of
# the package's own is needed); bench/peer_bench.py times findimagedupes (its wallpapers: see the bench).
[ "${1:-}" = "--test" ] && debs+=(desktop-file-utils appstream xvfb xauth binutils libimage-exiftool-perl postgresql
                                  findimagedupes)
if command -v dpkg-query >/dev/null 2>&1; then
  missing=()
  for d in "${debs[@]}"; do
    dpkg-query -W -f='${Status}' "$d" 2>/dev/null | grep -q "install ok installed" || missing+=("$d")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "installing system libraries: ${missing[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extras}"

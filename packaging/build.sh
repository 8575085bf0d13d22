#!/usr/bin/env bash
# Builds the one-folder app with PyInstaller: dist/tessera/tessera (run it with no arguments for the
# desktop app, or with a subcommand as the CLI). Installs PyInstaller into ./.venv when missing.
# Usage: packaging/build.sh [DISTPATH [WORKPATH]]   (defaults: dist/ and build/)
set -euo pipefail
cd "$(dirname "$0")/.."

distpath=${1:-dist}
workpath=${2:-build}

if [ ! -x .venv/bin/python ]; then
  echo "no .venv: run packaging/install.sh first" >&2
  exit 1
fi
if ! .venv/bin/python -c "import PyInstaller" 2>/dev/null; then
  echo "installing PyInstaller into .venv" >&2
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[package]"
fi

.venv/bin/python -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath "$distpath" --workpath "$workpath" packaging/tessera.spec
echo "built $distpath/tessera/tessera" >&2

#!/usr/bin/env bash
# Build the packaged app, one folder: dist/measurer/ (run dist/measurer/measurer).
#
# Uses the active virtual environment ($VIRTUAL_ENV) when there is one, with measurer's
# dependencies installed in it; otherwise creates packaging/build/venv and installs measurer
# (with the XLSX extra) there. Installs the pinned PyInstaller into that environment, then runs
# packaging/measurer.spec. Intermediate files go to packaging/build/, the app to dist/measurer/
# (both ignored by git). Extra arguments go to PyInstaller (e.g. --clean).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYINSTALLER="pyinstaller==6.22.3"
HOOKS="pyinstaller-hooks-contrib==2026.9"

fail() {
  echo "build.sh: $*" >&2
  exit 1
}

if [ -n "${VIRTUAL_ENV:-}" ]; then
  python="$VIRTUAL_ENV/bin/python"
  [ -x "$python" ] || python="$VIRTUAL_ENV/Scripts/python.exe" # Windows (Git Bash)
else
  venv="$ROOT/packaging/build/venv"
  if [ ! -x "$venv/bin/python" ]; then
    echo "build.sh: creating $venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --upgrade pip
  fi
  python="$venv/bin/python"
  "$python" -m pip install -q -e "${ROOT}[xlsx]"
fi
[ -x "$python" ] || fail "no Python in $VIRTUAL_ENV"
if [ "$(uname -s)" = Linux ] && ! command -v objdump >/dev/null; then
  fail "PyInstaller needs objdump on Linux: install binutils (apt-get install binutils)"
fi

"$python" -c "import measurer, numpy, scipy, skimage, cv2, tifffile, PIL, PySide6, pyqtgraph" \
  || fail "measurer's dependencies are missing in $("$python" -c 'import sys; print(sys.prefix)'): pip install -e '$ROOT'"
"$python" -m pip install -q "$PYINSTALLER" "$HOOKS" || fail "could not install $PYINSTALLER"

cd "$ROOT"
rm -rf dist/measurer
"$python" -m PyInstaller --noconfirm --log-level WARN \
  --distpath "$ROOT/dist" --workpath "$ROOT/packaging/build/pyinstaller" \
  "$@" packaging/measurer.spec || fail "PyInstaller failed (see above)"
[ -x dist/measurer/measurer ] || [ -f dist/measurer/measurer.exe ] || fail "no executable in dist/measurer"
echo "build.sh: built $ROOT/dist/measurer ($(du -sh dist/measurer | cut -f1))"

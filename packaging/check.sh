#!/usr/bin/env bash
# Build the packaged app (packaging/build.sh) and check that the frozen executable works:
# CLI subcommands on the bundled samples, and the GUI started offscreen. The frozen app runs
# with an empty environment (no virtual environment, no PYTHONPATH, a fresh HOME).
# Exits non-zero with one line "check.sh: FAILED: ..." on the first failure.
#
#     bash packaging/check.sh             # build, then check
#     bash packaging/check.sh --no-build  # check the dist/measurer already built
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
APP="$ROOT/dist/measurer/measurer"
SAMPLES="$ROOT/measurer/resources/samples"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
out="$tmp/out"
err="$tmp/err"

fail() {
  for file in "$out" "$err"; do
    [ -s "$file" ] && sed 's/^/    /' "$file" >&2
  done
  echo "check.sh: FAILED: $*" >&2
  exit 1
}

# The build environment's Python: only to write a test image and to read JSON, never to run
# the app.
python="${VIRTUAL_ENV:+$VIRTUAL_ENV/bin/python}"
python="${python:-$ROOT/packaging/build/venv/bin/python}"

started=$SECONDS
if [ "${1:-}" != "--no-build" ]; then
  bash "$ROOT/packaging/build.sh" || fail "build.sh failed"
fi
build_seconds=$((SECONDS - started))
[ -x "$APP" ] || fail "no executable $APP (run packaging/build.sh)"
[ -x "$python" ] || fail "no build Python at $python"

# frozen [VAR=value... [COMMAND...]] -- ARGS: run the frozen app with ARGS and nothing from this
# shell's environment but the variables given (COMMAND, e.g. timeout, wraps it).
# stdout -> $out, stderr -> $err.
frozen() {
  local prefix=()
  while [ "$1" != "--" ]; do
    prefix+=("$1")
    shift
  done
  shift
  env -i PATH=/usr/bin:/bin HOME="$tmp/home" LANG=C.UTF-8 "${prefix[@]}" "$APP" "$@" \
    >"$out" 2>"$err"
}
# Assert something about $out with Python (the JSON is in the variable `out`).
expect() {
  "$python" -c "import json, sys; out = open(sys.argv[2], encoding='utf-8').read(); $1" \
    "$2" "$out" || fail "$2"
}
mkdir -p "$tmp/home"
checks=0

# 1. --version: the version of the source tree.
version="$("$python" -c "import sys; sys.path.insert(0, '$ROOT'); import measurer; print(measurer.__version__)")"
frozen -- --version || fail "measurer --version exited with $?"
[ "$(cat "$out")" = "measurer $version" ] || fail "--version printed '$(cat "$out")', not 'measurer $version'"
checks=$((checks + 1))

# 2. info on a calibrated 16-bit ImageJ TIFF: size and pixel size from the metadata (tifffile).
frozen -- info "$SAMPLES/calibrated_16bit.tif" || fail "measurer info exited with $?"
expect "d = json.loads(out); p = d['pixel_size']
assert (d['width'], d['height'], d['dtype']) == (512, 512, 'uint16'), d
assert (p['x'], p['y'], p['unit']) == (0.25, 0.25, 'µm'), p" \
  "measurer info calibrated_16bit.tif: expected 512 x 512, 0.25 µm pixels"
checks=$((checks + 1))

# 3. Every subcommand of the source tree is found in the frozen archive (pkgutil.iter_modules).
frozen -- --help || fail "measurer --help exited with $?"
while read -r module; do
  name="$(basename "$module" .py)"
  grep -qE "^    $name( |$)" "$out" || fail "subcommand '$name' missing from the frozen measurer --help"
done < <(grep -l '^def register(' measurer/cli/*.py)
checks=$((checks + 1))

# 4. blobs on the deflate-compressed retina mask (tifffile codecs, OpenCV, SciPy): the areas
#    measurer/resources/samples/README.md gives.
frozen -- blobs "$SAMPLES/retina_hole_mask.tif" --json || fail "measurer blobs exited with $?"
expect "assert [b['area'] for b in json.loads(out)] == [119242, 118939]" \
  "measurer blobs retina_hole_mask.tif: expected two regions of 119242 and 118939 px"
checks=$((checks + 1))

# 5. scalebar on the layered micrograph (Pillow, SciPy): the bar is exactly 200 px.
frozen -- scalebar "$SAMPLES/layered_micrograph.png" --json || fail "measurer scalebar exited with $?"
expect "assert json.loads(out)['length_px'] == 200.0" \
  "measurer scalebar layered_micrograph.png: expected a 200 px bar"
checks=$((checks + 1))

# 6. turns on a generated kymograph (scikit-image's lazily loaded filters): its 5 turns.
"$python" - "$tmp/kymo.tif" "$tmp/turns.json" <<'EOF' || fail "could not write the test kymograph"
import json, sys
import numpy as np, tifffile
from measurer.analysis.synthetic_detections import synthetic_kymograph
kymo = synthetic_kymograph(noise=0.25, seed=2)
tifffile.imwrite(sys.argv[1], np.clip((kymo.image + 1) * 4000, 0, 65535).astype(np.uint16))
json.dump(kymo.turn_frames.tolist(), open(sys.argv[2], "w"))
EOF
frozen -- turns "$tmp/kymo.tif" --json || fail "measurer turns exited with $?"
expect "truth = json.load(open('$tmp/turns.json')); found = [t['frame'] for t in json.loads(out)['turns']]
assert len(found) == len(truth) and all(abs(a - b) <= 2 for a, b in zip(found, truth)), found" \
  "measurer turns: expected the 5 turns of the generated kymograph"
checks=$((checks + 1))

# 7. Bad input: one readable line and exit code 2, no traceback.
code=0
frozen -- info "$tmp/missing.tif" || code=$?
if [ "$code" != 2 ] || [ "$(wc -l <"$err")" != 1 ] || ! grep -q '^measurer: error:' "$err"; then
  fail "measurer info on a missing file: expected exit code 2 and one error line, got $code"
fi
checks=$((checks + 1))

# 8. The GUI, offscreen, on a bundled sample (found with importlib.resources): quits by itself
#    after 3 s (MEASURER_QUIT_AFTER_MS) with exit code 0. 124 = still running after 60 s = hung.
code=0
frozen QT_QPA_PLATFORM=offscreen MEASURER_QUIT_AFTER_MS=3000 timeout 60 -- \
  --sample calibrated_16bit.tif || code=$?
[ "$code" = 0 ] || fail "the frozen GUI exited with code $code (124: it did not quit)"
if grep -q Traceback "$out" "$err"; then fail "the frozen GUI printed a traceback"; fi
checks=$((checks + 1))

# 9. A recipe and a batch on two worker processes (spawned: freeze_support in entry.py): the
#    table has both blobs of both retina samples, and the errors table is empty.
frozen -- recipe blobs --min-area 5 --out "$tmp/blobs.json" || fail "measurer recipe exited with $?"
frozen -- batch "$tmp/blobs.json" "$SAMPLES/retina_hole_mask.tif" "$SAMPLES/retina_hole_mask.png" \
  --out "$tmp/table.csv" --jobs 2 || fail "measurer batch --jobs 2 exited with $?"
"$python" - "$tmp/table.csv" "$tmp/table.errors.csv" <<'EOF' || fail "measurer batch --jobs 2: wrong table"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8-sig")))
assert [int(r["area"]) for r in rows] == [119242, 118939] * 2, rows
assert list(csv.DictReader(open(sys.argv[2], encoding="utf-8-sig"))) == []
EOF
checks=$((checks + 1))

size="$(du -sh "$ROOT/dist/measurer" | cut -f1)"
echo "check.sh: all $checks checks passed; dist/measurer is $size, built in ${build_seconds} s"

"""Kymograph tracing and turning points against synthetic kymographs with known turns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from measurer.analysis.kymograph import find_turns
from measurer.analysis.synthetic_detections import synthetic_kymograph

REAL = Path("/work/shared/data/real/kymograph")
#: Moderate noise: per-pixel noise a quarter of the curve's peak, bands up to 3× brighter.
NOISE = 0.25


def _frames(result) -> np.ndarray:
    return np.array([t.frame for t in result.turns])


@pytest.mark.parametrize("seed", range(4))
def test_each_turn_within_two_frames_and_no_extra_turn(seed):
    kymo = synthetic_kymograph(noise=NOISE, seed=seed)
    before = kymo.image.copy()
    result = find_turns(kymo.image)
    np.testing.assert_array_equal(kymo.image, before)
    found = _frames(result)
    assert len(found) == len(kymo.turn_frames)
    assert np.abs(found - kymo.turn_frames).max() <= 2


def test_precision_recall_and_trace_error_on_the_synthetic_set():
    true_pos = false_pos = missed = 0
    errors = []
    for seed in range(20):
        kymo = synthetic_kymograph(noise=NOISE, seed=100 + seed)
        result = find_turns(kymo.image)
        found, truth = _frames(result), kymo.turn_frames
        near = np.abs(found[:, None] - truth[None, :]) <= 3
        true_pos += int(near.any(axis=1).sum())
        false_pos += int((~near.any(axis=1)).sum())
        missed += int((~near.any(axis=0)).sum())
        assert result.frames.tolist() == list(range(240))
        errors.append(np.abs(result.positions - kymo.positions))
    assert true_pos / (true_pos + false_pos) >= 0.95
    assert true_pos / (true_pos + missed) >= 0.95
    # Trace error under 1 px (rare frames at sharp accelerations reach ~1.2 px).
    errors = np.concatenate(errors)
    assert errors.mean() < 0.3 and np.percentile(errors, 99.9) < 1.0 and errors.max() < 1.5


def test_directions_and_points_follow_the_axis():
    kymo = synthetic_kymograph(noise=0.1, seed=5)
    along_x = find_turns(kymo.image, axis="x")
    along_y = find_turns(kymo.image.T, axis="y")
    assert _frames(along_x).tolist() == _frames(along_y).tolist()
    for tx, ty in zip(along_x.turns, along_y.turns, strict=True):
        assert (tx.col, ty.row) == (tx.frame, ty.frame)
        assert tx.row == pytest.approx(ty.col)
        expected = kymo.positions[tx.frame]
        assert abs(tx.row - expected) < 1.0
        # A maximum of the row is a turn from going down to going up on screen.
        is_max = tx.row > kymo.positions[tx.frame - 10]
        assert (tx.direction_before, tx.direction_after) == (
            ("down", "up") if is_max else ("up", "down")
        )
        assert (ty.direction_before, ty.direction_after) == (
            ("right", "left") if is_max else ("left", "right")
        )
    assert along_x.trace[:, 1].tolist() == list(range(240))  # (row, col): col is the frame
    np.testing.assert_allclose(along_x.trace[:, ::-1], along_y.trace)


def test_prominence_is_a_minimum_excursion():
    kymo = synthetic_kymograph(noise=0.1, seed=6)
    excursions = np.abs(np.diff(kymo.positions[kymo.turn_frames]))
    smallest = excursions.min()
    assert len(find_turns(kymo.image, min_prominence=smallest - 3).turns) == 5
    fewer = find_turns(kymo.image, min_prominence=smallest + 3).turns
    assert len(fewer) < 5


@pytest.mark.parametrize("seed", range(3))
def test_ridge_method_keeps_to_its_curve_where_another_crosses(seed):
    kymo = synthetic_kymograph(noise=NOISE, crossing=True, seed=seed)
    result = find_turns(kymo.image, method="ridge")
    assert np.abs(_frames(result) - kymo.turn_frames).max() <= 2
    # The crossing curve runs from 5 % to 95 % of the height over frames 96-143.
    line = np.interp(np.arange(240), [96, 143], [4.5, 85.5])
    crossing = np.flatnonzero(np.abs(kymo.positions - line)[96:144] < 3) + 96
    away = np.ones(240, bool)
    for frame in crossing:
        away[max(0, frame - 4) : frame + 5] = False
    error = np.abs(result.positions - kymo.positions)
    assert error[away].max() < 1.0
    assert error.max() < 3.0


@pytest.mark.parametrize("method", ["centroid", "ridge"])
def test_fading_curve_is_bridged(method):
    kymo = synthetic_kymograph(noise=0.2, fade=(60, 72), seed=7)
    result = find_turns(kymo.image, method=method)
    assert np.isnan(result.raw_positions[60:72]).sum() >= 6  # mostly not seen while faded...
    assert np.isfinite(result.positions).all()  # ...but the trace goes on
    assert np.abs(_frames(result) - kymo.turn_frames).max() <= 2
    outside = np.r_[0:57, 75:240]
    assert np.abs(result.positions - kymo.positions)[outside].max() < 1.0


def test_no_curve_gives_an_empty_result():
    flat = np.full((40, 60), 12.0)
    result = find_turns(flat)
    assert result.frames.size == 0 and result.trace.shape == (0, 2) and result.turns == ()
    assert find_turns(flat, method="ridge").turns == ()


def test_bad_input_is_refused():
    image = np.zeros((20, 30))
    with pytest.raises(ValueError, match="axis"):
        find_turns(image, axis="z")
    with pytest.raises(ValueError, match="method"):
        find_turns(image, method="magic")
    with pytest.raises(ValueError, match="min_prominence"):
        find_turns(image, min_prominence=0)
    with pytest.raises(ValueError, match="at least 3×3"):
        find_turns(np.zeros((2, 30)))
    with pytest.raises(ValueError, match="NaN"):
        find_turns(np.full((20, 30), np.nan))


def test_result_dict():
    result = find_turns(synthetic_kymograph(noise=0.1, seed=8).image)
    data = result.to_dict()
    assert set(data) == {"axis", "trace", "turns"}
    assert len(data["trace"]) == 240 and len(data["trace"][0]) == 2
    assert set(data["turns"][0]) == {"frame", "row", "col", "direction_before", "direction_after"}


@pytest.mark.skipif(not (REAL / "mt_kymograph_C2.tif").exists(), reason="real data not present")
def test_real_growing_microtubule_has_no_turn():
    tifffile = pytest.importorskip("tifffile")
    image = tifffile.imread(REAL / "mt_kymograph_C2.tif")  # x = position, y = time
    result = find_turns(image, axis="y")
    assert result.turns == ()
    assert result.positions[-1] - result.positions[0] > 20  # the tip moves right as it grows

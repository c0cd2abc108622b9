"""Template matching against scenes with known copies (analysis/synthetic_detections.py)."""

from __future__ import annotations

import numpy as np
import pytest

from measurer.analysis.synthetic_detections import template_scene, texture
from measurer.analysis.templates import TemplateError, best_match, match_template

#: Template 24×32 in a 240×320 scene: centres of copies whose windows touch the border
#: (top-left corner, bottom-right corner) and four at sub-pixel positions inside.
CENTRES = [
    (11.5, 15.5),
    (227.5, 303.5),
    (60.3, 100.7),
    (120.3, 150.7),
    (170.6, 60.2),
    (90.25, 250.8),
]
#: Copies score >= 0.93 at this noise; the textured background and distractors stay below 0.8.
THRESHOLD = 0.85


def _centres(result) -> np.ndarray:
    """Centres of the matched windows, sorted by row then column."""
    centres = [(m.row + (m.height - 1) / 2, m.col + (m.width - 1) / 2) for m in result.matches]
    return np.array(sorted(centres))


def _tops(result) -> np.ndarray:
    """Top-left (row, col) of the matches, sorted."""
    return np.array(sorted((m.row, m.col) for m in result.matches)).reshape(-1, 2)


def _pair(found: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Distance from each true centre to its nearest detection (every detection used once)."""
    distance = np.hypot(*(found[:, None, :] - truth[None, :, :]).transpose(2, 0, 1))
    assert len(set(distance.argmin(axis=1))) == len(found), "two detections on one copy"
    return distance.min(axis=0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_copy_found_once_within_half_a_pixel(seed):
    scene = template_scene(CENTRES, noise=0.03, seed=seed)
    before = scene.image.copy()
    result = match_template(scene.image, scene.template, threshold=THRESHOLD)
    np.testing.assert_array_equal(scene.image, before)
    assert result.count == len(CENTRES)  # no false match, none missed
    errors = _pair(_centres(result), scene.centres)
    assert errors.max() < 0.5
    # Sub-pixel refinement at work: whole-pixel peaks would be off by ~0.38 px on average.
    assert errors.mean() < 0.15
    scores = [m.score for m in result.matches]
    assert scores == sorted(scores, reverse=True) and min(scores) >= THRESHOLD


def test_border_copies_are_found_at_the_border():
    scene = template_scene(CENTRES, noise=0.03, seed=3)
    result = match_template(scene.image, scene.template, threshold=THRESHOLD)
    corners = {(round(m.row), round(m.col)) for m in result.matches}
    assert {(0, 0), (240 - 24, 320 - 32)} <= corners


def test_8_and_16_bit_images_give_the_same_matches():
    scene = template_scene(CENTRES, noise=0.03, seed=4)
    image8 = np.clip(scene.image * 180, 0, 255).astype(np.uint8)
    templ8 = np.clip(scene.template * 180 + 20, 0, 255).astype(np.uint8)
    image16 = image8.astype(np.uint16) * 257 + 1000
    fast = match_template(image8, templ8, threshold=THRESHOLD)
    slow = match_template(image16, templ8, threshold=THRESHOLD)
    assert fast.count == slow.count == len(CENTRES)
    np.testing.assert_allclose(_centres(fast), _centres(slow), atol=0.02)
    assert _pair(_centres(fast), scene.centres).max() < 0.5


def test_scaled_copies_found_with_their_scale():
    centres = [(40.2, 60.6), (120.5, 180.3), (180.7, 80.4)]
    scales = [0.8, 1.0, 1.25]
    scene = template_scene(centres, scales=scales, noise=0.02, seed=5)
    only_one = match_template(scene.image, scene.template, threshold=THRESHOLD)
    assert [m.scale for m in only_one.matches] == [1.0]
    result = match_template(
        scene.image, scene.template, threshold=THRESHOLD, scales=(0.8, 0.9, 1.0, 1.1, 1.25)
    )
    assert result.count == 3
    errors = _pair(_centres(result), scene.centres)
    assert errors.max() < 0.5
    by_position = sorted(result.matches, key=lambda m: m.row)
    assert [m.scale for m in by_position] == scales
    assert [(m.height, m.width) for m in by_position] == [(19, 26), (24, 32), (30, 40)]


def test_rotated_copies_found_with_their_angle():
    centres = [(50.4, 70.2), (150.6, 220.5), (170.2, 80.7)]
    angles = [0.0, 90.0, 30.0]
    scene = template_scene(centres, angles=angles, noise=0.02, seed=6)
    result = match_template(scene.image, scene.template, threshold=THRESHOLD, angles=(0, 30, 90))
    assert result.count == 3
    assert _pair(_centres(result), scene.centres).max() < 0.5
    assert [m.angle for m in sorted(result.matches, key=lambda m: m.row)] == angles


def test_colour_matching_tells_colours_apart():
    scene = template_scene([(60.0, 80.0), (160.0, 240.0)], noise=0.0, distractors=0, seed=7)
    pattern = scene.template
    image = np.full((*scene.image.shape, 3), 0.3)
    image[48:72, 64:96, 0] = pattern  # red copy, top-left (48, 64)
    image[148:172, 224:256, 1] = pattern  # same pattern in green, top-left (148, 224)
    template = np.full((*pattern.shape, 3), 0.3)
    template[..., 0] = pattern
    colour = match_template(image, template, threshold=0.9)
    np.testing.assert_allclose(_tops(colour), [(48, 64)], atol=0.2)
    grey = match_template(image, template, threshold=0.9, color=False)
    np.testing.assert_allclose(_tops(grey), [(48, 64), (148, 224)], atol=0.2)


@pytest.mark.parametrize("dtype", [np.float32, np.uint8])
def test_alpha_mask_ignores_transparent_pixels_and_flat_areas_never_match(dtype):
    # Masked correlation on flat windows is NaN, infinite or (8-bit) spuriously near 1.
    rng = np.random.default_rng(8)
    scene = template_scene([(50.0, 60.0)], noise=0.0, distractors=0, seed=8)
    image = np.zeros((200, 260), np.float32)
    image[100:190, 120:250] = texture((90, 130), seed=9)
    template = scene.template.astype(np.float32)
    alpha = np.full(template.shape, 255, np.uint8)
    alpha[:, :10] = 0  # left part transparent: copies differ there
    tops = [(20, 30), (120, 140), (150, 200)]
    for top, left in tops:
        image[top : top + 24, left : left + 32] = template
        image[top : top + 24, left : left + 10] = rng.random((24, 10))
    if dtype == np.uint8:
        image, template = (image * 255).astype(np.uint8), (template * 255).astype(np.uint8)
    rgba = np.dstack([template, alpha])
    result = match_template(image, rgba, threshold=0.95)
    np.testing.assert_allclose(_tops(result), tops, atol=0.2)
    assert all(np.isfinite(m.score) and m.score <= 1.0 for m in result.matches)
    unmasked = match_template(image, template, threshold=0.95)
    assert unmasked.count == 0


def test_flat_image_windows_give_no_spurious_matches():
    # Raw cv2.matchTemplate on these values scores some all-zero windows near 1 (OpenCV 5.0).
    rng = np.random.default_rng(0)
    image = np.zeros((200, 200), np.float32)
    image[50:150, 50:150] = rng.random((100, 100))
    image[160:190, 10:40] = 0.5
    image[5:35, 100:130] = 0.5 + rng.random((30, 30)) * 1e-6
    template = rng.random((20, 20)).astype(np.float32)
    image[60:80, 60:80] = template
    result = match_template(image, template, threshold=0.3)
    np.testing.assert_allclose(_tops(result), [(60, 60)], atol=0.2)


def test_pyramid_finds_the_same_matches():
    rng = np.random.default_rng(10)
    centres = [(40.3, 50.6), (300.5, 400.2), (200.2, 120.7), (450.6, 300.4)]
    scene = template_scene(
        centres, shape=(512, 512), template_shape=(64, 48), noise=0.02, seed=int(rng.integers(99))
    )
    full = match_template(scene.image, scene.template, threshold=THRESHOLD)
    coarse = match_template(scene.image, scene.template, threshold=THRESHOLD, pyramid=True)
    assert full.count == coarse.count == 4
    np.testing.assert_allclose(_centres(full), _centres(coarse), atol=0.01)
    assert _pair(_centres(coarse), scene.centres).max() < 0.5


def test_best_match_gives_the_single_best_place():
    scene = template_scene([(100.4, 150.7)], noise=0.03, distractors=3, seed=11)
    match = best_match(scene.image, scene.template)
    assert np.hypot(match.row + 11.5 - 100.4, match.col + 15.5 - 150.7) < 0.5
    assert match.score > 0.9


def test_refusals_are_clear():
    image = texture((60, 80), seed=1)
    with pytest.raises(TemplateError, match="flat"):
        match_template(image, np.full((10, 10), 7.0))
    with pytest.raises(TemplateError, match="flat"):
        match_template(image.astype(np.float32), np.full((10, 10, 3), 200, np.uint8))
    with pytest.raises(TemplateError, match="does not fit"):
        match_template(image, texture((70, 20), seed=2))
    with pytest.raises(TemplateError, match="hides every pixel"):
        match_template(image, texture((10, 10), seed=2), mask=np.zeros((10, 10)))
    with pytest.raises(ValueError, match="NaN"):
        match_template(np.where(image > 0.9, np.nan, image), image[:10, :10])
    with pytest.raises(ValueError, match="threshold"):
        match_template(image, image[:10, :10], threshold=1.5)
    with pytest.raises(ValueError, match="scales"):
        match_template(image, image[:10, :10], scales=(0.0,))
    with pytest.raises(ValueError, match="below 2×2"):
        match_template(image, image[:10, :10], scales=(0.1,))


def test_result_dict():
    scene = template_scene([(100.0, 150.0)], noise=0.0, distractors=0, seed=12)
    result = match_template(scene.image, scene.template, threshold=0.9)
    data = result.to_dict()
    assert data["count"] == 1 and data["threshold"] == 0.9
    assert set(data["matches"][0]) == {"row", "col", "height", "width", "score", "scale", "angle"}

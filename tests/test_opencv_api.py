"""Every OpenCV function and constant measurer relies on, called the way measurer calls it.

The installed OpenCV (5.0, headless) differs from 4.x in places and lacks some modules (no
``cv2.img_hash``, no AKAZE). The first test scans ``measurer/`` for ``cv2.<name>`` and fails when
a name is missing from OpenCV or not exercised in this file: add a check here when you use a new
one.
"""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "measurer"
_NAME = re.compile(r"\bcv2\.([A-Za-z_][A-Za-z0-9_]*)")


def test_every_cv2_name_used_in_measurer_exists_and_is_exercised_here():
    used: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        for name in _NAME.findall(path.read_text(encoding="utf-8")):
            used.setdefault(name, set()).add(str(path.relative_to(PACKAGE.parent)))
    assert used, "no cv2 use found: wrong package path?"
    missing = {n: sorted(p) for n, p in used.items() if not hasattr(cv2, n)}
    assert not missing, f"not in OpenCV {cv2.__version__}: {missing}"
    exercised = set(_NAME.findall(Path(__file__).read_text(encoding="utf-8")))
    untested = {n: sorted(p) for n, p in used.items() if n not in exercised}
    assert not untested, f"add a check to tests/test_opencv_api.py for: {untested}"


def test_match_template_and_min_max_loc():
    rng = np.random.default_rng(0)
    image = rng.random((40, 50)).astype(np.float32)
    template = image[10:20, 25:37].copy()
    scores = cv2.matchTemplate(image, template, cv2.TM_CCOEFF_NORMED)
    assert scores.shape == (31, 39) and scores.dtype == np.float32
    low, high, low_at, high_at = cv2.minMaxLoc(scores)
    assert high == pytest.approx(1.0, abs=1e-5) and high_at == (25, 10)  # (x, y)
    assert low < high and len(low_at) == 2
    mask = np.ones(template.shape, np.float32)
    mask[:, :4] = 0
    masked = cv2.matchTemplate(image, template, cv2.TM_CCOEFF_NORMED, mask=mask)
    assert masked.shape == scores.shape and masked[10, 25] == pytest.approx(1.0, abs=1e-4)
    flat = np.zeros((30, 30), np.uint8)
    flat[:12, :12] = (rng.random((12, 12)) * 255).astype(np.uint8)
    windows = cv2.matchTemplate(flat, flat[:12, :12].copy(), cv2.TM_CCOEFF_NORMED)
    assert windows[-1, -1] == 0.0  # an all-zero window scores 0 without a mask


def test_resize_pyramid_and_geometry():
    image = np.arange(12 * 16, dtype=np.float32).reshape(12, 16)
    assert cv2.resize(image, (8, 6), interpolation=cv2.INTER_AREA).shape == (6, 8)  # (w, h)
    assert cv2.resize(image, (32, 24), interpolation=cv2.INTER_LINEAR).shape == (24, 32)
    assert cv2.resize(image, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC).shape == (36, 48)
    halved = cv2.resize(image, (8, 6), interpolation=cv2.INTER_NEAREST)
    assert set(halved.ravel()) <= set(image.ravel())
    assert cv2.pyrDown(np.zeros((13, 17), np.uint8)).shape == (7, 9)
    rotation = cv2.getRotationMatrix2D((0.0, 0.0), 90.0, 1.0)
    np.testing.assert_allclose(rotation @ [1.0, 0.0, 1.0], [0.0, -1.0], atol=1e-12)  # CCW on screen
    dot = np.zeros((9, 9), np.float32)
    dot[4, 6] = 1.0
    turned = cv2.warpAffine(dot, cv2.getRotationMatrix2D((4.0, 4.0), 90.0, 1.0), (9, 9))
    assert np.unravel_index(np.argmax(turned), turned.shape) == (2, 4)  # right of centre -> above
    shift = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 0.0]])
    labels = np.arange(20, dtype=np.uint8).reshape(4, 5)
    pulled = cv2.warpAffine(
        labels, shift, (5, 4), flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP, borderValue=0
    )
    np.testing.assert_array_equal(pulled[:, :3], labels[:, 2:])  # dst(x) = src(x + 2)
    assert (pulled[:, 3:] == 0).all()


def test_colour_conversions():
    rgb = np.array([[[255, 0, 0], [0, 0, 255]]], np.uint8)
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    np.testing.assert_array_equal(grey, [[76, 29]])  # 0.299 R, 0.114 B
    np.testing.assert_array_equal(cv2.cvtColor(rgb, cv2.COLOR_BGR2RGB)[0, 0], [0, 0, 255])
    assert cv2.cvtColor(grey, cv2.COLOR_GRAY2RGB).shape == (1, 2, 3)
    white_red = np.array([[[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]]], np.float32)
    lab = cv2.cvtColor(white_red, cv2.COLOR_RGB2Lab)
    np.testing.assert_allclose(lab[0, 0], [100, 0, 0], atol=0.01)
    assert lab[0, 1, 0] == pytest.approx(53.2, abs=0.5) and lab[0, 1, 1] > 70  # red: a* > 0
    with pytest.raises(cv2.error):
        cv2.cvtColor(np.zeros((3, 3, 2), np.uint8), cv2.COLOR_RGB2GRAY)


def test_components_and_contours():
    mask = np.zeros((10, 12), np.uint8)
    mask[2:5, 3:8] = 1
    mask[7, 0] = mask[8, 1] = 1  # diagonal neighbours: one component with 8-connectivity
    count, labels, stats, centroids = cv2.connectedComponentsWithStats(
        mask, connectivity=8, ltype=cv2.CV_32S
    )
    assert count == 3 and labels.dtype == np.int32
    block = labels[3, 4]
    left, top, width, height, area = stats[block]
    assert (left, top, width, height, area) == (3, 2, 5, 3, 15)
    assert stats[block, cv2.CC_STAT_AREA] == 15
    assert stats[block, cv2.CC_STAT_TOP] == 2
    np.testing.assert_allclose(centroids[block], [5.0, 3.0])  # (x, y)
    assert cv2.connectedComponentsWithStats(mask, connectivity=4)[0] == 4
    assert cv2.connectedComponents(mask, connectivity=8)[0] == 3
    assert cv2.connectedComponents(mask.view(bool).view(np.uint8), connectivity=4)[0] == 4
    count16, labels16, stats16, _ = cv2.connectedComponentsWithStats(
        mask, connectivity=8, ltype=cv2.CV_16U
    )
    assert count16 == 3 and labels16.dtype == np.uint16 and stats16[labels16[3, 4], 4] == 15
    many = np.zeros((600, 600), np.uint8)
    many[::2, ::2] = 1  # 90,000 blobs: 16-bit labels overflow, and OpenCV says so
    with pytest.raises(cv2.error):
        cv2.connectedComponentsWithStats(many, connectivity=8, ltype=cv2.CV_16U)
    ring = np.zeros((9, 9), np.uint8)
    ring[1:8, 1:8] = 255
    ring[3:6, 3:6] = 0
    contours, hierarchy = cv2.findContours(ring, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    assert len(contours) == 2 and hierarchy.shape == (1, 2, 4)  # outer boundary and hole
    assert len(max(contours, key=len)) == 24  # every boundary pixel of the 7×7 square
    outer, _ = cv2.findContours(ring, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    assert len(outer) == 1 and len(outer[0]) == 24  # the hole is not listed
    inside = cv2.pointPolygonTest(outer[0], (4.0, 4.0), True)
    assert inside > 0 and cv2.pointPolygonTest(outer[0], (0.0, 0.0), False) == -1
    canvas = np.zeros((20, 20, 3), np.uint8)
    corners = np.array([[[2 * 16, 2 * 16], [17 * 16, 2 * 16], [17 * 16, 17 * 16]]], np.int32)
    cv2.polylines(canvas, corners, True, (0, 255, 0), 1, cv2.LINE_AA, shift=4)
    assert canvas[2, 10, 1] > 0 and canvas[5, 12].sum() == 0  # on the edge, not inside
    square = np.array([[0, 0], [0, 4], [4, 4], [4, 0]], np.float32)
    assert cv2.isContourConvex(square)
    assert not cv2.isContourConvex(np.array([[0, 0], [2, 1], [4, 0], [2, 4]], np.float32))


def test_clustering_and_smoothing():
    rng = np.random.default_rng(1)
    points = np.concatenate([rng.normal(0, 0.1, (50, 3)), rng.normal(5, 0.1, (50, 3))])
    start = (np.arange(100) % 2).astype(np.int32).reshape(-1, 1)  # deliberately mixed
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 100, 1e-3)
    compactness, labels, centres = cv2.kmeans(
        points.astype(np.float32), 2, start, criteria, 1, cv2.KMEANS_USE_INITIAL_LABELS
    )
    assert sorted(np.round(centres[:, 0]).tolist()) == [0.0, 5.0]
    assert len(set(labels[:50, 0])) == 1 and compactness < 10
    image = np.zeros((20, 20, 3), np.uint8)
    image[:, 10:] = (200, 40, 40)
    filtered = cv2.pyrMeanShiftFiltering(image, 6.0, 20)
    assert filtered.shape == image.shape and filtered.dtype == np.uint8
    assert filtered[:, :7].max() < 10  # each side keeps its colour away from the edge
    np.testing.assert_allclose(filtered[:, 14:].reshape(-1, 3).mean(0), (200, 40, 40), atol=3)
    blurred = cv2.GaussianBlur(np.eye(9, dtype=np.float32), (0, 0), 1.5)
    assert blurred.sum() == pytest.approx(9.0, rel=0.1) and blurred[0, 8] < blurred[4, 4]
    boxed = cv2.boxFilter(np.eye(3, dtype=np.float32), -1, (3, 3), borderType=cv2.BORDER_REFLECT)
    assert boxed[1, 1] == pytest.approx(1 / 3)
    eroded = cv2.erode(
        np.ones((5, 5), np.uint8),
        np.ones((3, 3), np.uint8),
        borderType=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    assert eroded.sum() == 9  # the constant zero border eats the rim
    dot = np.zeros((5, 5), np.uint8)
    dot[2, 2] = 1
    assert cv2.dilate(dot, np.ones((3, 3), np.uint8)).sum() == 9


def test_pixel_arithmetic_and_histograms():
    grey = np.array([[0, 1, 128], [254, 255, 7]], np.uint8)
    inside = cv2.inRange(grey, 1, 254)
    np.testing.assert_array_equal(inside, [[0, 255, 255], [255, 0, 255]])
    assert cv2.countNonZero(inside) == 4
    table = (255 - np.arange(256)).astype(np.uint8)
    np.testing.assert_array_equal(cv2.LUT(grey, table), 255 - grey)
    channels = cv2.split(np.dstack([grey, grey + 1, grey]))
    assert len(channels) == 3
    np.testing.assert_array_equal(channels[1], grey + 1)
    difference = cv2.absdiff(grey, np.full_like(grey, 10))
    assert difference[0, 0] == 10 and difference[1, 1] == 245
    sums = cv2.reduce(grey, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S)
    np.testing.assert_array_equal(sums.ravel(), [129, 516])
    hist = cv2.calcHist([grey], [0], None, [4], [0, 256])
    np.testing.assert_array_equal(hist.ravel(), [3, 0, 1, 2])
    padded = cv2.copyMakeBorder(grey, 1, 1, 2, 2, cv2.BORDER_CONSTANT, value=9)
    assert padded.shape == (4, 7) and padded[0, 0] == 9 and padded[1, 2] == 0
    coefficients = cv2.dct(np.ones((8, 8), np.float32))
    assert coefficients[0, 0] == pytest.approx(8.0) and abs(coefficients[1:, 1:]).max() < 1e-5


def test_encoding_decoding_and_text():
    image = np.zeros((32, 48, 3), np.uint8)
    (width, height), baseline = cv2.getTextSize("12", cv2.FONT_HERSHEY_SIMPLEX, 0.8, 2)
    assert width > 0 and height > 0 and baseline >= 0
    cv2.putText(
        image, "12", (4, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2, cv2.LINE_AA
    )
    assert image.any()
    ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    assert cv2.imdecode(jpeg, cv2.IMREAD_GRAYSCALE).shape == (32, 48)
    assert cv2.imdecode(jpeg, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION).shape == (32, 48, 3)
    for factor, grey_flag, colour_flag in [
        (2, cv2.IMREAD_REDUCED_GRAYSCALE_2, cv2.IMREAD_REDUCED_COLOR_2),
        (4, cv2.IMREAD_REDUCED_GRAYSCALE_4, cv2.IMREAD_REDUCED_COLOR_4),
        (8, cv2.IMREAD_REDUCED_GRAYSCALE_8, cv2.IMREAD_REDUCED_COLOR_8),
    ]:
        assert cv2.imdecode(jpeg, grey_flag).shape == (32 // factor, 48 // factor)
        assert cv2.imdecode(jpeg, colour_flag).shape == (32 // factor, 48 // factor, 3)
    rgba = np.zeros((4, 5, 4), np.uint8)
    rgba[..., 3] = 128
    ok, png = cv2.imencode(".png", rgba)
    assert ok and cv2.imdecode(png, cv2.IMREAD_UNCHANGED).shape == (4, 5, 4)
    assert cv2.imdecode(np.frombuffer(b"not an image", np.uint8), cv2.IMREAD_UNCHANGED) is None


def test_orb_matching_and_homography():
    rng = np.random.default_rng(2)
    texture = cv2.GaussianBlur((rng.random((200, 200)) * 255).astype(np.uint8), (0, 0), 1.0)
    moved = np.roll(texture, (7, 11), axis=(0, 1))
    orb = cv2.ORB_create(nfeatures=300)
    found_a, descriptors_a = orb.detectAndCompute(texture, None)
    found_b, descriptors_b = orb.detectAndCompute(moved, None)
    assert len(found_a) > 50 and descriptors_a.dtype == np.uint8
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(descriptors_a, descriptors_b, k=2)
    assert all(isinstance(m, cv2.DMatch) for pair in pairs for m in pair)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.75 * p[1].distance]
    src = np.float32([found_a[m.queryIdx].pt for m in good])
    dst = np.float32([found_b[m.trainIdx].pt for m in good])
    homography, inliers = cv2.findHomography(src, dst, cv2.RANSAC, 3.0)
    mapped = homography @ [100.0, 100.0, 1.0]
    np.testing.assert_allclose(mapped[:2] / mapped[2], [111, 107], atol=1.0)  # (x, y) shift
    assert inliers.sum() > 20
    robust, robust_inliers = cv2.findHomography(src, dst, cv2.USAC_ACCURATE, 3.0)
    np.testing.assert_allclose(robust, homography, atol=0.05)
    assert robust_inliers.sum() > 20


def test_reduced_png_decode_is_a_linear_exact_shrink():
    image = (np.random.default_rng(1).random((64, 96, 3)) * 255).astype(np.uint8)
    encoded = cv2.imencode(".png", image)[1]
    full = cv2.imdecode(encoded, cv2.IMREAD_COLOR)
    shrunk = cv2.resize(full, (24, 16), interpolation=cv2.INTER_LINEAR_EXACT)
    assert np.array_equal(shrunk, cv2.imdecode(encoded, cv2.IMREAD_REDUCED_COLOR_4))


def test_thread_count_can_be_limited_and_restored():
    before = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        assert cv2.getNumThreads() == 1
    finally:
        cv2.setNumThreads(before)
    assert cv2.getNumThreads() == before

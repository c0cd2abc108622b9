"""Gaps, closest pairs and point-to-line distances between regions with known geometry."""

from __future__ import annotations

import math

import numpy as np
import pytest

from measurer.analysis.blobs import label_blobs
from measurer.analysis.gaps import (
    closest_pair,
    deepest_to_margin_line,
    horizontal_gap,
    point_to_line,
    region_from_mask,
    regions_from_labels,
)
from measurer.analysis.masks import MaskError
from measurer.analysis.synthetic_masks import rectangles_mask, two_blobs_mask


def _split(mask):
    labels = label_blobs(mask)
    return labels == 1, labels == 2


def test_two_blobs_with_a_known_gap():
    # Left blob ends at column 10, right blob starts at column 14: 3 px between their edges.
    mask = two_blobs_mask((20, 40), top=4, rows=9, left_end=10, gap=3, width=6)
    left, right = _split(mask)
    gap = horizontal_gap(left, right)
    assert gap.a_is_left
    assert gap.rows.tolist() == list(range(4, 13))
    assert gap.gaps.tolist() == [3.0] * 9 and gap.minimum == 3.0
    assert gap.left_cols.tolist() == [10] * 9 and gap.right_cols.tolist() == [14] * 9
    assert gap.row == 8  # middle of rows 4..12
    assert not horizontal_gap(right, left).a_is_left
    pair = closest_pair(left, right)
    assert pair.distance == 3.0
    assert pair.point_a[1] == 10.5 and pair.point_b[1] == 13.5  # on the facing edges
    assert pair.point_a[0] == pair.point_b[0] == pair.pixel_a[0]
    scaled = closest_pair(left, right, row_scale=5.0, col_scale=2.0)
    assert scaled.distance == pytest.approx(6.0)


def test_varying_gap_reports_minimum_and_its_rows():
    mask = np.zeros((10, 30), bool)
    mask[2:8, 0:8] = True
    mask[2:8, 15:25] = True
    mask[4:6, 8:10] = True  # the left blob reaches 2 px further in rows 4 and 5
    gap = horizontal_gap(*_split(mask))
    assert gap.gaps.tolist() == [7, 7, 5, 5, 7, 7]  # columns 8..14, then 10..14
    assert gap.minimum == 5 and gap.min_rows.tolist() == [4, 5] and gap.row == 4


def test_regions_without_shared_rows_and_diagonal_distance():
    mask = rectangles_mask((30, 30), [(0, 0, 10, 10), (14, 15, 7, 11)])
    a, b = _split(mask)
    gap = horizontal_gap(a, b)
    assert len(gap.rows) == 0 and math.isnan(gap.minimum) and gap.row is None
    pair = closest_pair(a, b)
    # Corner pixels (9, 9) and (14, 15): 4 rows and 5 columns between their edges.
    assert pair.distance == pytest.approx(math.hypot(4, 5))
    assert pair.pixel_a == (9, 9) and pair.pixel_b == (14, 15)
    assert pair.point_a == (9.5, 9.5) and pair.point_b == (13.5, 14.5)
    assert math.dist(pair.point_a, pair.point_b) == pytest.approx(pair.distance)
    scaled = closest_pair(a, b, row_scale=2.0, col_scale=0.5)
    assert scaled.distance == pytest.approx(math.hypot(8.0, 2.5))
    doubled = closest_pair(a, b, row_scale=4.0, col_scale=1.0)
    assert doubled.distance == pytest.approx(2 * scaled.distance)


def test_anisotropic_pixels_change_which_pair_is_closest():
    a = np.zeros((6, 8), bool)
    a[0, 0] = True
    b = np.zeros((6, 8), bool)
    b[0, 4] = b[3, 0] = True
    assert closest_pair(a, b).pixel_b == (3, 0)  # 2 px below versus 3 px across
    wide_rows = closest_pair(a, b, row_scale=2.0, col_scale=0.5)
    assert wide_rows.pixel_b == (0, 4) and wide_rows.distance == pytest.approx(1.5)


def test_touching_and_overlapping_regions_are_zero_apart():
    a = rectangles_mask((10, 10), [(0, 0, 5, 5)])
    b = rectangles_mask((10, 10), [(5, 5, 5, 5)])  # meets a at one corner
    assert closest_pair(a, b).distance == 0.0
    c = rectangles_mask((10, 10), [(2, 2, 5, 5)])
    overlap = closest_pair(a, c)
    assert overlap.distance == 0.0 and overlap.pixel_a == (2, 2)
    inside = rectangles_mask((10, 10), [(1, 1, 2, 2)])
    assert closest_pair(a, inside).distance == 0.0  # wholly inside a


def test_point_to_line():
    result = point_to_line((10, 5), (2, 0), (2, 20))
    assert result.distance == 8.0 and result.foot == (2.0, 5.0)
    assert point_to_line((0, 5), (2, 0), (2, 20)).distance == -2.0  # above the line
    slanted = point_to_line((0, 10), (0, 0), (10, 10))
    assert slanted.distance == pytest.approx(-math.sqrt(50))
    assert slanted.foot == pytest.approx((5.0, 5.0))
    # Rows twice as tall: the point is 16 units below a horizontal line.
    assert point_to_line((10, 5), (2, 0), (2, 20), row_scale=2.0).distance == 16.0
    with pytest.raises(ValueError):
        point_to_line((1, 1), (2, 2), (2, 2))


def test_deepest_point_of_b_below_the_margins_of_a():
    a = rectangles_mask((40, 40), [(10, 0, 10, 10), (10, 30, 10, 10)])
    b = rectangles_mask((40, 40), [(20, 12, 10, 16)])
    result = deepest_to_margin_line(a, b)
    assert result.margin_left == (14, 9) and result.margin_right == (14, 30)
    assert result.deepest == (29, 19)  # bottom row, middle of 16 tied columns
    assert result.to_line.distance == 15.0
    assert deepest_to_margin_line(a, b, row_scale=2.0, col_scale=3.0).to_line.distance == 30.0
    one = deepest_to_margin_line(rectangles_mask((40, 40), [(10, 0, 10, 40)]), b)
    assert one.margin_left == (14, 0) and one.margin_right == (14, 39)
    with pytest.raises(MaskError, match="B is empty"):
        deepest_to_margin_line(a, np.zeros_like(b))
    with pytest.raises(MaskError, match="A is empty"):
        deepest_to_margin_line(np.zeros_like(a), b)


def test_deepest_point_follows_a_tilted_margin_line():
    a = np.zeros((40, 40), bool)
    a[5, 0:5] = True  # left margin (5, 4)
    a[25, 35:40] = True  # right margin (25, 35): the line drops 20 rows over 31 columns
    b = np.zeros((40, 40), bool)
    b[20:23, 8:12] = True
    b[22, 11:37] = True
    b[22:31, 36] = True  # the lowest pixel of B, (30, 36), is close below the line
    result = deepest_to_margin_line(a, b)
    assert (result.margin_left, result.margin_right) == ((5, 4), (25, 35))
    # Depth below the line: (31 * (row - 5) - 20 * (col - 4)) / hypot(31, 20).
    assert result.deepest == (22, 8)
    assert result.to_line.distance == pytest.approx((31 * 17 - 20 * 4) / math.hypot(31, 20))


def test_regions_from_labels_match_single_masks():
    mask = rectangles_mask((20, 20), [(1, 1, 4, 4), (8, 3, 5, 9), (2, 10, 3, 3)])
    labels = label_blobs(mask)
    regions = regions_from_labels(labels, int(labels.max()))
    for i, region in enumerate(regions):
        alone = region_from_mask(labels == i + 1)
        assert np.array_equal(region.boundary, alone.boundary)
        assert np.array_equal(region.first_cols, alone.first_cols)


def test_bad_input():
    a = rectangles_mask((10, 10), [(0, 0, 3, 3)])
    with pytest.raises(MaskError, match="empty"):
        closest_pair(a, np.zeros_like(a))
    with pytest.raises(MaskError, match="differ in size"):
        horizontal_gap(a, np.zeros((5, 5), bool))
    with pytest.raises(ValueError):
        closest_pair(a, rectangles_mask((10, 10), [(5, 5, 2, 2)]), row_scale=-1.0)
    with pytest.raises(MaskError, match="not a binary mask"):
        closest_pair(a, np.arange(100).reshape(10, 10))

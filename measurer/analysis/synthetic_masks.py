"""Masks with known geometry, for tests: rectangles, discs, two blobs, a macular hole, a pit.

A pixel is foreground when its centre lies inside the shape (pixel centres at integer
``(row, col)``). Retina shapes are drawn in physical units in a frame aligned to the base of
the retina, then placed in the image with anisotropic pixels and an optional tilt, so their
true measurements are known exactly (see :class:`HoleTruth` and :class:`PitTruth`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def rectangles_mask(shape: tuple[int, int], rects: Sequence[Sequence[int]]) -> np.ndarray:
    """Boolean mask with filled rectangles ``(row, col, rows, cols)``."""
    mask = np.zeros(shape, bool)
    for row, col, rows, cols in rects:
        mask[row : row + rows, col : col + cols] = True
    return mask


def disc_mask(shape: tuple[int, int], centre: tuple[float, float], radius: float) -> np.ndarray:
    """Boolean mask of the pixels whose centre is within ``radius`` of ``centre`` (row, col)."""
    rows, cols = np.ogrid[: shape[0], : shape[1]]
    return (rows - centre[0]) ** 2 + (cols - centre[1]) ** 2 <= radius**2


def two_blobs_mask(
    shape: tuple[int, int], *, top: int, rows: int, left_end: int, gap: int, width: int
) -> np.ndarray:
    """Two rectangles side by side on the same rows, ``gap`` background pixels apart.

    The left one covers columns ``left_end - width + 1 .. left_end``, the right one starts at
    ``left_end + gap + 1``: their facing edges are ``gap`` px apart.
    """
    return rectangles_mask(
        shape, [(top, left_end - width + 1, rows, width), (top, left_end + gap + 1, rows, width)]
    )


def _frame(
    shape: tuple[int, int],
    centre_col: float,
    base_row: float,
    pixel_width: float,
    pixel_height: float,
    tilt_deg: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Frame coordinates (u along the base, v up from it) of every pixel centre, physical."""
    rows, cols = np.mgrid[: shape[0], : shape[1]].astype(float)
    x = (cols - centre_col) * pixel_width
    y = (rows - base_row) * pixel_height
    a = math.radians(tilt_deg)  # positive: the retina turns counter-clockwise on screen
    return x * math.cos(a) - y * math.sin(a), -x * math.sin(a) - y * math.cos(a)


@dataclass(frozen=True)
class HoleTruth:
    """Designed measurements of :func:`macular_hole_mask`, in physical units.

    ``arm_*`` are straight lines from each base end of the hole to the top of that edge;
    ``mhi = height / base_diameter``, ``thi = height / mld``,
    ``hff = (arm_left + arm_right) / base_diameter``, ``dhi = mld / base_diameter``.
    """

    mld: float
    base_diameter: float
    height_left: float
    height_right: float
    arm_left: float
    arm_right: float

    @property
    def height(self) -> float:
        return max(self.height_left, self.height_right)

    @property
    def mhi(self) -> float:
        return self.height / self.base_diameter

    @property
    def thi(self) -> float:
        return self.height / self.mld

    @property
    def hff(self) -> float:
        return (self.arm_left + self.arm_right) / self.base_diameter

    @property
    def dhi(self) -> float:
        return self.mld / self.base_diameter


def macular_hole_mask(
    shape: tuple[int, int],
    *,
    centre_col: float,
    base_row: float,
    base_diameter: float,
    mld: float,
    neck: tuple[float, float],
    top_diameter: float,
    foot: float = 0.0,
    height_left: float,
    height_right: float,
    retina_width: float = math.inf,
    pixel_width: float = 1.0,
    pixel_height: float = 1.0,
    tilt_deg: float = 0.0,
) -> tuple[np.ndarray, HoleTruth]:
    """A retina band split by a full-thickness hole with straight-sided walls.

    In the base frame (physical units, hole axis at ``u = 0``, base at ``v = 0``) each wall's
    half-width is ``base_diameter / 2`` up to ``v = foot``, goes linearly to ``mld / 2`` at
    ``v = neck[0]``, stays there up to ``v = neck[1]``, and widens linearly to
    ``top_diameter / 2`` at the top of that side (``height_left`` or ``height_right``). The
    tissue on each side is flat-topped and the retina ends at ``|u| = retina_width / 2``.
    ``centre_col``, ``base_row`` place the hole axis and base in the image (pixel coordinates;
    use half-integers to put the base on pixel edges); ``tilt_deg`` > 0 turns the whole retina
    counter-clockwise on screen about that point.
    """
    u, v = _frame(shape, centre_col, base_row, pixel_width, pixel_height, tilt_deg)
    low, high = neck
    if not (0 <= foot < low <= high < min(height_left, height_right)):
        raise ValueError("need 0 <= foot < neck[0] <= neck[1] < the lower edge top")

    def half_width(v, height):
        rise = np.clip((v - foot) / (low - foot), 0, 1)
        lower = base_diameter / 2 + (mld - base_diameter) / 2 * rise
        upper = mld / 2 + (top_diameter - mld) / 2 * np.clip((v - high) / (height - high), 0, 1)
        return np.where(v < high, lower, upper)

    band = (v >= 0) & (np.abs(u) <= retina_width / 2)
    left = band & (v <= height_left) & (u <= -half_width(v, height_left))
    right = band & (v <= height_right) & (u >= half_width(v, height_right))
    arm = [math.hypot((top_diameter - base_diameter) / 2, h) for h in (height_left, height_right)]
    truth = HoleTruth(mld, base_diameter, height_left, height_right, arm[0], arm[1])
    return left | right, truth


@dataclass(frozen=True)
class PitTruth:
    """Designed measurements of :func:`foveal_pit_mask`, in physical units (slope in degrees)."""

    pit_depth: float
    pit_diameter: float
    max_slope_deg: float
    central_thickness: float


def foveal_pit_mask(
    shape: tuple[int, int],
    *,
    centre_col: float,
    base_row: float,
    rim_height: float,
    pit_depth: float,
    pit_diameter: float,
    floor_diameter: float,
    outer_slope: float = 0.1,
    retina_width: float = math.inf,
    pixel_width: float = 1.0,
    pixel_height: float = 1.0,
    tilt_deg: float = 0.0,
) -> tuple[np.ndarray, PitTruth]:
    """A retina band whose top surface dips into a trapezoidal foveal pit.

    In the base frame the top surface is at ``rim_height`` on the two rims
    (``|u| = pit_diameter / 2``), falls in straight walls to a flat floor ``pit_depth`` lower
    (``|u| <= floor_diameter / 2``), and slopes down outside the rims by ``outer_slope``
    (height per unit length), so the rims are the highest points near the pit. The retina
    ends at ``|u| = retina_width / 2``; placement and tilt as in :func:`macular_hole_mask`.
    """
    u, v = _frame(shape, centre_col, base_row, pixel_width, pixel_height, tilt_deg)
    rim, floor = pit_diameter / 2, floor_diameter / 2
    if not 0 <= floor < rim:
        raise ValueError("the floor must be narrower than the pit")
    wall = np.clip((np.abs(u) - floor) / (rim - floor), 0, 1)
    top = rim_height - pit_depth * (1 - wall) - outer_slope * np.maximum(np.abs(u) - rim, 0)
    mask = (v >= 0) & (v <= top) & (np.abs(u) <= retina_width / 2)
    slope = math.degrees(math.atan(pit_depth / (rim - floor)))
    return mask, PitTruth(pit_depth, pit_diameter, slope, rim_height - pit_depth)

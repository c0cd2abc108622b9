"""Ground-truth generators for the detections: template scenes, kymographs, colour discs, grids.

Every generator is deterministic for a given ``seed`` and returns the image together with the
answer a detector should give, in the project's convention (points as (row, col), pixel centres at
integer coordinates).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi


@dataclass(frozen=True)
class TemplateScene:
    """A textured scene with copies of a template, their centres (row, col) and scales."""

    image: np.ndarray
    template: np.ndarray
    centres: np.ndarray
    scales: np.ndarray


@dataclass(frozen=True)
class Kymograph:
    """A kymograph with one bright curve: its true position per frame and turning frames."""

    image: np.ndarray
    positions: np.ndarray
    turn_frames: np.ndarray


@dataclass(frozen=True)
class DiscScene:
    """Coloured discs: class index, centre (row, col) and radius of each disc."""

    image: np.ndarray
    classes: np.ndarray
    centres: np.ndarray
    radii: np.ndarray


@dataclass(frozen=True)
class GridScene:
    """A grid of cells; ``occupancy[i, j]`` is the class index in cell (i, j), -1 when empty."""

    image: np.ndarray
    origin: tuple[int, int]
    cell_size: tuple[int, int]
    occupancy: np.ndarray


@dataclass(frozen=True)
class TissueScene:
    """Stained discs on tissue filling the field to its edges (no background border).

    ``tissue`` and ``stains`` are the RGB colours (0-1) used; ``discs`` lists, per disc, its
    stain, its pixel area (pixels nearer its centre than its radius, inside the image) and the
    centroid ``(row, col)`` of those pixels.
    """

    image: np.ndarray
    tissue: np.ndarray
    stains: dict[str, np.ndarray]
    discs: list[tuple[str, int, np.ndarray]]


def texture(shape: tuple[int, ...], *, sigma: float = 2.0, seed: int = 0) -> np.ndarray:
    """Smooth random texture scaled to mean 0.5 and standard deviation 0.15 (float64)."""
    rng = np.random.default_rng(seed)
    field = ndi.gaussian_filter(rng.standard_normal(shape), sigma)
    return 0.5 + 0.15 * (field - field.mean()) / field.std()


def blob_pattern(rng: np.random.Generator, height: int, width: int, blobs: int = 20):
    """A random smooth pattern f(row, col) on [0, height) × [0, width), roughly 0 to 1.

    Bright and dark Gaussian blobs of 1 px to 15 % of the size: detailed enough that smooth
    texture rarely correlates with it above 0.8.
    """
    centres = rng.uniform([0, 0], [height, width], size=(blobs, 2))
    sigmas = rng.uniform(1.0, max(1.5, 0.15 * min(height, width)), size=blobs)
    weights = rng.choice([-1.0, 1.0], size=blobs) * rng.uniform(0.5, 1.0, size=blobs)

    def pattern(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        d2 = (rows[..., None] - centres[:, 0]) ** 2 + (cols[..., None] - centres[:, 1]) ** 2
        return 0.5 + 0.5 * np.tanh((weights * np.exp(-d2 / (2 * sigmas**2))).sum(-1))

    return pattern


def template_scene(
    centres: list[tuple[float, float]],
    *,
    shape: tuple[int, int] = (240, 320),
    template_shape: tuple[int, int] = (24, 32),
    scales: list[float] | None = None,
    angles: list[float] | None = None,
    noise: float = 0.03,
    distractors: int = 6,
    seed: int = 0,
) -> TemplateScene:
    """Copies of a smooth random template centred at sub-pixel ``centres`` (row, col).

    Copy k is scaled by ``scales[k]`` and rotated by ``angles[k]`` degrees (counter-clockwise on
    screen) about its centre, with its own gain and offset; the copy covers 3 px more than the
    template on every side, so a window shifted by a pixel still sees a sub-pixel-shifted copy.
    Distractors are other random patterns of the same size; a brightness gradient spans the
    image; Gaussian ``noise`` is added last. The template is the pattern at scale 1, angle 0.
    """
    rng = np.random.default_rng(seed)
    height, width = template_shape
    pattern = blob_pattern(rng, height, width)
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float64)
    template = pattern(rows, cols)
    image = texture(shape, sigma=3.0, seed=seed + 1)
    grid = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float64)
    scales = [1.0] * len(centres) if scales is None else scales
    angles = [0.0] * len(centres) if angles is None else angles
    for k in range(distractors):
        other = blob_pattern(rng, height, width)
        centre = rng.uniform([height / 2, width / 2], [shape[0] - height / 2, shape[1] - width / 2])
        _paste(image, grid, other, centre, 1.0, 0.0, template_shape, 0.8, 0.1 * (k % 3))
    for centre, scale, angle in zip(centres, scales, angles, strict=True):
        gain, offset = rng.uniform(0.6, 1.2), rng.uniform(-0.2, 0.2)
        _paste(image, grid, pattern, centre, scale, angle, template_shape, gain, offset)
    image = image * (0.7 + 0.6 * grid[1] / shape[1]) + rng.normal(0, noise, shape)
    return TemplateScene(
        image, template, np.array(centres, dtype=np.float64), np.array(scales, dtype=np.float64)
    )


def _paste(image, grid, pattern, centre, scale, angle, size, gain, offset) -> None:
    """Replace the pixels under the pattern (plus a 3 px margin), scaled and rotated."""
    cos, sin = np.cos(np.radians(angle)), np.sin(np.radians(angle))
    d_row, d_col = (grid[0] - centre[0]) / scale, (grid[1] - centre[1]) / scale
    r = (size[0] - 1) / 2 + sin * d_col + cos * d_row
    c = (size[1] - 1) / 2 + cos * d_col - sin * d_row
    inside = (r >= -3.5) & (r < size[0] + 2.5) & (c >= -3.5) & (c < size[1] + 2.5)
    image[inside] = gain * pattern(r[inside], c[inside]) + offset


def kymograph_trajectory(
    frames: int, *, turns: int = 5, span: tuple[float, float] = (15.0, 70.0), seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A wandering position per frame with ``turns`` reversals, rests and pauses.

    Runs between extremes follow a half-cosine (zero speed at both ends), so the curve is flat
    for a moment at every turn; every second turn also rests at its extreme for 4 frames (the
    turn is the middle of the rest), and every third run stops half-way for a fifth of its
    length without reversing. Returns (positions, turn frames).
    """
    rng = np.random.default_rng(seed)
    low, high = span
    cuts = np.linspace(0, frames - 1, turns + 2)
    cuts[1:-1] += rng.uniform(-0.15, 0.15, turns) * (cuts[1] - cuts[0])
    cuts = np.round(cuts).astype(int)
    direction = rng.choice([-1, 1])
    levels = [rng.uniform(low, low + 0.2 * (high - low))]
    if direction < 0:
        levels = [high + low - levels[0]]
    for _ in range(turns + 1):
        room = high - levels[-1] if direction > 0 else levels[-1] - low
        levels.append(levels[-1] + direction * rng.uniform(0.45 * (high - low), room))
        direction = -direction
    positions = np.empty(frames)
    turn_frames = []
    for k in range(turns + 1):
        start, stop = cuts[k], cuts[k + 1]
        rest = 4 if k % 2 == 1 else 0
        if k > 0:
            turn_frames.append(start + rest // 2)
        positions[start : start + rest] = levels[k]
        t = np.linspace(0, 1, stop + 1 - start - rest)
        if k % 3 == 2:  # move half-way, stop for a fifth of the run, move on
            t = np.where(t < 0.4, t / 0.8, np.where(t < 0.6, 0.5, 0.5 + (t - 0.6) / 0.8))
            ease = np.where(t <= 0.5, 1 - np.cos(2 * np.pi * t), 3 + np.cos(2 * np.pi * t)) / 4
        else:
            ease = (1 - np.cos(np.pi * t)) / 2
        positions[start + rest : stop + 1] = levels[k] + (levels[k + 1] - levels[k]) * ease
    return positions, np.array(turn_frames)


def synthetic_kymograph(
    *,
    frames: int = 240,
    size: int = 90,
    turns: int = 5,
    noise: float = 0.25,
    width: float = 1.5,
    crossing: bool = False,
    fade: tuple[int, int] | None = None,
    seed: int = 0,
) -> Kymograph:
    """A bright curve over banded background with per-frame flicker, one column per frame.

    The curve has peak 1 and Gaussian profile ``width``; background bands differ by up to 3
    (brighter than the curve) and each frame's brightness drifts; ``noise`` is Gaussian. With
    ``crossing``, a second, straight curve as bright as the first crosses the image diagonally
    during the middle fifth of the frames; with ``fade`` = (start, stop), the curve drops to
    15 % brightness on those frames.
    """
    rng = np.random.default_rng(seed)
    positions, turn_frames = kymograph_trajectory(
        frames, turns=turns, span=(0.15 * size, 0.85 * size), seed=seed
    )
    rows = np.arange(size, dtype=np.float64)[:, None]
    brightness = np.ones(frames)
    if fade is not None:
        brightness[fade[0] : fade[1]] = 0.15
    image = brightness * np.exp(-((rows - positions[None, :]) ** 2) / (2 * width**2))
    if crossing:
        passing = slice(2 * frames // 5, 3 * frames // 5)
        line = np.linspace(0.05 * size, 0.95 * size, passing.stop - passing.start)
        image[:, passing] += np.exp(-((rows - line[None, :]) ** 2) / (2 * width**2))
    edges = np.sort(rng.choice(np.arange(5, size - 5), 5, replace=False))
    bands = np.repeat(rng.uniform(0, 3, 6), np.diff(np.concatenate([[0], edges, [size]])))
    drift = 0.5 * np.sin(np.arange(frames) / 17.0) + rng.normal(0, 0.2, frames)
    image += bands[:, None] + drift[None, :] + rng.normal(0, noise, (size, frames))
    return Kymograph(image, positions, turn_frames)


def disc_scene(
    colors: np.ndarray,
    counts: list[int],
    *,
    shape: tuple[int, int] = (240, 320),
    radius: tuple[float, float] = (7.0, 12.0),
    seed: int = 0,
) -> DiscScene:
    """Shaded discs of the given RGB ``colors`` (0-1) on a textured, unevenly lit background.

    Each disc is brightest at its centre and 40 % darker at its rim; discs stay at least 8 px
    apart and 3 px from the border. Returns an 8-bit RGB image.
    """
    rng = np.random.default_rng(seed)
    colors = np.asarray(colors, dtype=np.float64)
    image = _background(shape, np.array([0.75, 0.72, 0.65]), seed)
    grid_r, grid_c = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float64)
    classes, centres, radii = [], [], []
    for cls, count in enumerate(counts):
        for _ in range(count):
            for _attempt in range(1000):
                rad = rng.uniform(*radius)
                centre = rng.uniform(rad + 3, np.array(shape) - rad - 4)
                if all(
                    np.hypot(*(centre - c)) > rad + r + 8
                    for c, r in zip(centres, radii, strict=True)
                ):
                    break
            else:
                raise ValueError("too many discs for the image")
            _shaded_disc(image, grid_r, grid_c, centre, rad, colors[cls])
            classes.append(cls)
            centres.append(centre)
            radii.append(rad)
    image = np.clip(image + rng.normal(0, 0.02, image.shape), 0, 1)
    return DiscScene(
        (image * 255).round().astype(np.uint8),
        np.array(classes),
        np.array(centres),
        np.array(radii),
    )


def grid_scene(
    colors: np.ndarray,
    occupancy: np.ndarray,
    *,
    cell_size: tuple[int, int] = (40, 48),
    origin: tuple[int, int] = (7, 11),
    seed: int = 0,
) -> GridScene:
    """A grid whose cells each have their own background colour and texture.

    Occupied cells hold a shaded disc of class ``occupancy[i, j]`` near their centre.
    """
    rng = np.random.default_rng(seed)
    occupancy = np.asarray(occupancy)
    height, width = cell_size
    shape = (
        origin[0] + height * occupancy.shape[0] + 9,
        origin[1] + width * occupancy.shape[1] + 5,
    )
    image = _background(shape, np.array([0.5, 0.5, 0.5]), seed)
    grid_r, grid_c = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float64)
    for (i, j), cls in np.ndenumerate(occupancy):
        top, left = origin[0] + i * height, origin[1] + j * width
        cell = (slice(top, top + height), slice(left, left + width))
        tint = rng.uniform(0.3, 0.9) + rng.uniform(-0.06, 0.06, 3)  # greyish, any brightness
        image[cell] = (
            tint
            * (0.7 + 0.6 * texture((height, width), sigma=1.5, seed=seed + 7 * i + j))[..., None]
        )
        if cls >= 0:
            centre = np.array([top + height / 2, left + width / 2]) + rng.uniform(-3, 3, 2)
            _shaded_disc(image, grid_r, grid_c, centre, 0.28 * min(height, width), colors[cls])
    image = np.clip(image + rng.normal(0, 0.02, image.shape), 0, 1)
    return GridScene((image * 255).round().astype(np.uint8), origin, cell_size, occupancy)


def _background(shape, tint, seed) -> np.ndarray:
    """Textured background with a left-to-right illumination gradient, RGB float."""
    tex = texture(shape, sigma=2.0, seed=seed + 11)
    light = 0.8 + 0.3 * np.linspace(0, 1, shape[1])[None, :]
    return np.clip(tint * (light * (0.75 + 0.5 * (tex - 0.5)))[..., None], 0, 1)


def _shaded_disc(image, grid_r, grid_c, centre, radius, color) -> None:
    """Paint a disc, 40 % darker at its rim than at its centre, anti-aliased over one pixel."""
    dist = np.hypot(grid_r - centre[0], grid_c - centre[1])
    cover = np.clip(radius + 0.5 - dist, 0, 1)[..., None]
    shade = (1 - 0.4 * np.clip(dist / radius, 0, 1) ** 2)[..., None]
    image[:] = image * (1 - cover) + cover * shade * np.asarray(color)


#: Pink tissue and brown / blue stains of :func:`tissue_scene` (RGB 0-1).
TISSUE = np.array([0.88, 0.70, 0.76])
STAINS = {"brown": np.array([0.55, 0.33, 0.15]), "blue": np.array([0.28, 0.32, 0.66])}
#: (stain, row, col, radius) of :func:`tissue_scene`'s discs; two are cut by the image edges,
#: so the image border holds stain too.
TISSUE_DISCS = (
    ("brown", 40.3, 60.6, 11.0), ("brown", 150.2, 200.7, 9.0), ("brown", 95.5, 0.0, 12.0),
    ("blue", 120.4, 100.2, 10.0), ("blue", 60.7, 250.1, 8.5), ("blue", 0.0, 160.0, 12.0),
    ("blue", 200.0, 50.0, 9.5),
)  # fmt: skip


def tissue_scene(shape: tuple[int, int] = (240, 320), *, seed: int = 0) -> TissueScene:
    """8-bit RGB textured pink tissue to every edge with brown and blue discs.

    Discs are anti-aliased over one pixel and 20 % darker at their rims than at their centres,
    as stained nuclei are; Gaussian noise of 0.015 (of full scale) is added.
    """
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]].astype(float)
    image = TISSUE * (0.9 + 0.2 * texture(shape, sigma=2.0, seed=seed))[..., None]
    discs = []
    for stain, row, col, radius in TISSUE_DISCS:
        dist = np.hypot(rows - row, cols - col)
        cover = np.clip(radius + 0.5 - dist, 0, 1)[..., None]
        shade = 1 - 0.2 * np.clip(dist / radius, 0, 1)[..., None] ** 2
        image = image * (1 - cover) + STAINS[stain] * shade * cover
        inside = np.argwhere(dist < radius)
        discs.append((stain, len(inside), inside.mean(axis=0)))
    image = np.clip(image + np.random.default_rng(seed).normal(0, 0.015, image.shape), 0, 1)
    pixels = (image * 255).round().astype(np.uint8)
    return TissueScene(pixels, TISSUE, dict(STAINS), discs)

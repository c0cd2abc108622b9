"""Colour objects and tile grids against scenes with known discs and occupancy."""

from __future__ import annotations

import numpy as np
import pytest

from measurer.analysis.colors import Grid, classify_grid, find_color_objects, match_grid
from measurer.analysis.synthetic_detections import STAINS, TISSUE, disc_scene, grid_scene, texture
from measurer.analysis.synthetic_detections import tissue_scene as synthetic_tissue_scene

#: Red, green, blue, yellow (RGB 0-1); discs are up to 40 % darker at their rims.
COLORS = np.array([[0.85, 0.15, 0.1], [0.15, 0.6, 0.2], [0.15, 0.25, 0.85], [0.9, 0.8, 0.1]])
NAMES = ["red", "green", "blue", "yellow"]
CLASSES = {name: tuple(c * 255) for name, c in zip(NAMES, COLORS, strict=True)}
COUNTS = [4, 6, 3, 5]


@pytest.mark.parametrize("seed", range(3))
def test_named_classes_count_shaded_discs_exactly(seed):
    scene = disc_scene(COLORS, COUNTS, seed=seed)
    before = scene.image.copy()
    result = find_color_objects(scene.image, classes=CLASSES, min_area=50)
    np.testing.assert_array_equal(scene.image, before)
    assert result.counts == dict(zip(NAMES, COUNTS, strict=True))
    # Every disc is one object of its class, centred on it.
    for cls, centre, radius in zip(scene.classes, scene.centres, scene.radii, strict=True):
        near = [o for o in result.objects if np.hypot(*(np.array(o.centroid) - centre)) < 2]
        assert [o.label for o in near] == [NAMES[cls]]
        # Edges sit half-way between the class colour and the background; the discs' rims are
        # 40 % darker than the class colour, so areas come out about 15 % small.
        assert 0.75 < near[0].area / (np.pi * radius**2) < 1.05


@pytest.mark.parametrize(("seed", "method"), [(0, "kmeans"), (1, "kmeans"), (2, "meanshift")])
def test_automatic_classes_count_shaded_discs_exactly(seed, method):
    scene = disc_scene(COLORS, COUNTS, seed=seed)
    result = find_color_objects(scene.image, k=4, min_area=50, method=method)
    # Classes come in order of hue: red, yellow, green, blue.
    assert result.counts == {"c0": 4, "c1": 5, "c2": 6, "c3": 3}
    red = np.array(result.palette["c0"])
    assert red[0] > 120 and red[0] > 2 * max(red[1], red[2])
    labels = result.labels
    for cls, centre in zip(scene.classes, scene.centres, strict=True):
        expected = {0: 0, 3: 1, 1: 2, 2: 3}[cls]
        assert labels[round(centre[0]), round(centre[1])] == expected


def test_objects_carry_geometry_in_pixels():
    image = np.full((60, 80, 3), 200, np.uint8)
    image[10:20, 30:50] = (200, 20, 20)  # a 10×20 red rectangle
    result = find_color_objects(image, classes={"red": (200, 20, 20)}, smoothing=0)
    [obj] = result.objects
    assert (obj.label, obj.area, obj.bbox) == ("red", 200, (10, 30, 10, 20))
    assert obj.centroid == pytest.approx((14.5, 39.5))
    assert result.to_dict()["objects"][0] == {
        "label": "red",
        "area": 200,
        "centroid": (14.5, 39.5),
        "bbox": (10, 30, 10, 20),
    }


def test_min_area_drops_small_objects():
    image = np.full((60, 80, 3), 200, np.uint8)
    image[10:20, 30:50] = (200, 20, 20)
    image[40:45, 10:15] = (200, 20, 20)  # 25 px
    classes = {"red": (200, 20, 20)}
    assert find_color_objects(image, classes=classes, smoothing=0, min_area=20).counts == {"red": 2}
    assert find_color_objects(image, classes=classes, smoothing=0, min_area=30).counts == {"red": 1}


def _occupancy(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    occupancy = rng.integers(-1, 4, (4, 6))
    occupancy.flat[rng.choice(24, 4, replace=False)] = [0, 1, 2, 3]  # every class present
    return occupancy


@pytest.mark.parametrize("seed", range(3))
def test_grid_cells_classified_against_their_own_background(seed):
    occupancy = _occupancy(seed)
    scene = grid_scene(COLORS, occupancy, seed=seed)
    grid = Grid(scene.origin, scene.cell_size, occupancy.shape)
    result = classify_grid(scene.image, grid, classes=CLASSES)
    got = np.array([-1 if c.label is None else NAMES.index(c.label) for c in result.cells])
    np.testing.assert_array_equal(got.reshape(occupancy.shape), occupancy)
    expected = {n: int((occupancy == i).sum()) for i, n in enumerate(NAMES)}
    assert result.counts == expected
    assert all((c.area > 0) == (c.label is not None) for c in result.cells)


def test_grid_automatic_classes_match_the_occupancy():
    occupancy = _occupancy(3)
    scene = grid_scene(COLORS, occupancy, seed=3)
    grid = Grid(scene.origin, scene.cell_size, occupancy.shape)
    result = classify_grid(scene.image, grid, k=4)
    hue_rank = {0: "c0", 3: "c1", 1: "c2", 2: "c3"}  # red, yellow, green, blue
    expected = [None if o < 0 else hue_rank[o] for o in occupancy.ravel()]
    assert [c.label for c in result.cells] == expected
    assert [(c.row, c.col) for c in result.cells] == [(i, j) for i in range(4) for j in range(6)]


def test_grid_references_pick_the_facing_direction():
    arrow = np.zeros((21, 21))
    for row in range(21):  # a triangle pointing right, plus a tail
        half = (20 - row if row > 10 else row) // 2
        arrow[row, 10 : 10 + half + 1] = 1.0
    arrow[9:12, 2:10] = 1.0
    references = {name: np.rot90(arrow, turns) for turns, name in enumerate("ENWS")}
    rng = np.random.default_rng(4)
    facing = rng.integers(0, 4, (3, 4))
    image = np.zeros((3 * 32, 4 * 32))
    for (i, j), turns in np.ndenumerate(facing):
        cell = 0.2 + 0.6 * rng.random() + 0.1 * texture((32, 32), seed=i * 4 + j)
        top, left = rng.integers(2, 9, 2)
        cell[top : top + 21, left : left + 21] += 0.5 * np.rot90(arrow, turns)
        image[i * 32 : (i + 1) * 32, j * 32 : (j + 1) * 32] = cell
    image[64:96, 96:128] = 0.4  # one empty, flat cell
    result = match_grid(image, Grid((0, 0), (32, 32), (3, 4)), references, min_score=0.6)
    labels = [c.label for c in result.cells]
    expected = ["ENWS"[t] for t in facing.ravel()]
    expected[-1] = None
    assert labels == expected
    assert all(c.score > 0.8 for c in result.cells[:-1]) and result.cells[-1].score == 0.0


def test_bad_input_is_refused():
    image = disc_scene(COLORS, [1, 1, 1, 1], seed=0).image
    with pytest.raises(ValueError, match="either k"):
        find_color_objects(image)
    with pytest.raises(ValueError, match="either k"):
        find_color_objects(image, k=2, classes=CLASSES)
    with pytest.raises(ValueError, match="three non-negative"):
        find_color_objects(image, classes={"bad": (1, 2)})
    with pytest.raises(ValueError, match="does not fit"):
        classify_grid(image, Grid((0, 0), (100, 100), (3, 3)), k=2)
    with pytest.raises(ValueError, match="NaN"):
        find_color_objects(np.full((20, 20, 3), np.nan), k=1)
    with pytest.raises(ValueError, match="larger than"):
        match_grid(image, Grid((0, 0), (20, 20), (2, 2)), {"big": np.ones((30, 30))})


def tissue_scene(seed=0):
    """The full-field tissue scene and, per disc, its stain, area and centroid."""
    scene = synthetic_tissue_scene(seed=seed)
    return scene.image, scene.discs


def _matches(result, truth, names):
    """Each true disc paired with the one object of its class centred within 1 px of it."""
    for stain, area, centroid in truth:
        near = [o for o in result.objects if np.hypot(*(np.array(o.centroid) - centroid)) < 1]
        assert [o.label for o in near] == [names[stain]]
        # Edges sit half-way between the disc's centre colour and the tissue; the rims are
        # 20 % darker, so areas come out up to about 12 % small.
        assert 0.85 < near[0].area / area < 1.03


@pytest.mark.parametrize("seed", range(2))
def test_an_explicit_background_finds_stained_discs_in_a_full_field(seed):
    image, truth = tissue_scene(seed=seed)
    before = image.copy()
    classes = {name: tuple(c * 255) for name, c in STAINS.items()}
    # From the border (tissue and stain alike) nothing stands out.
    assert find_color_objects(image, classes=classes).counts == {"brown": 0, "blue": 0}
    tissue = [tuple(TISSUE * 255)]
    result = find_color_objects(image, classes=classes, background=tissue)
    np.testing.assert_array_equal(image, before)
    assert result.counts == {"brown": 3, "blue": 4}
    _matches(result, truth, {"brown": "brown", "blue": "blue"})
    # Automatic classes, in order of hue: brown (orange hue) first, then blue.
    automatic = find_color_objects(image, k=2, background=tissue)
    assert automatic.counts == {"c0": 3, "c1": 4}
    _matches(automatic, truth, {"brown": "c0", "blue": "c1"})
    brown = np.array(automatic.palette["c0"])
    assert brown[0] > brown[1] > brown[2]
    # Two background colours (the tissue and the blue stain): only brown discs remain.
    two = [*tissue, tuple(STAINS["blue"] * 255)]
    assert find_color_objects(image, k=1, background=two).counts == {"c0": 3}


def test_a_bad_background_is_refused():
    image, _ = tissue_scene()
    for bad in ([], [(1, 2)], [(1, 2, -3)], [(np.nan, 1, 1)], [5]):
        with pytest.raises(ValueError, match="background"):
            find_color_objects(image, k=2, background=bad)
    with pytest.raises(ValueError, match="the background colours"):
        find_color_objects(np.full((20, 20, 3), 200, np.uint8), k=1, background=[(200, 200, 200)])

"""Blob outlines traced along pixel edges: area, centroid and boundary equal the pixels'."""

import numpy as np
import pytest
from scipy import ndimage as ndi

from measurer.analysis.masks import MaskError
from measurer.analysis.outlines import mask_outline_polygon

EIGHT = np.ones((3, 3), bool)


def shoelace(vertices: np.ndarray) -> tuple[float, np.ndarray]:
    """Signed area and area centroid ``(row, col)`` of a closed polygon."""
    r, c = vertices[:, 0], vertices[:, 1]
    r1, c1 = np.roll(r, -1), np.roll(c, -1)
    cross = c * r1 - c1 * r
    area = cross.sum() / 2
    centroid = np.array([((r + r1) * cross).sum(), ((c + c1) * cross).sum()]) / (6 * area)
    return area, centroid


def exposed_edges(mask: np.ndarray) -> int:
    """Number of pixel sides between the mask and the background (outside counts)."""
    padded = np.pad(mask, 1).astype(np.int8)
    return int(np.abs(np.diff(padded, axis=0)).sum() + np.abs(np.diff(padded, axis=1)).sum())


def random_blobs(seed: int, connectivity: int) -> list[np.ndarray]:
    """Every blob of a seeded random mask, each as its own full-size mask."""
    rng = np.random.default_rng(seed)
    noise = ndi.gaussian_filter(rng.random((48, 64)), 1.2)
    mask = noise > np.quantile(noise, 0.45)
    labels, count = ndi.label(mask, structure=EIGHT if connectivity == 8 else None)
    return [labels == k for k in range(1, count + 1)]


def check_outline(blob: np.ndarray, connectivity: int) -> bool:
    """Assert everything a pixel-edge outline must satisfy; True when the blob has holes."""
    outline = mask_outline_polygon(blob, connectivity=connectivity)
    background = None if connectivity == 8 else EIGHT
    filled = ndi.binary_fill_holes(blob, structure=background)
    area, centroid = shoelace(outline)
    assert area == filled.sum()  # exact: corners are half-integers
    np.testing.assert_allclose(centroid, np.argwhere(filled).mean(axis=0), atol=1e-9)
    assert np.all(outline % 1 == 0.5)  # on pixel corners
    step = np.roll(outline, -1, axis=0) - outline
    assert np.all((step[:, 0] == 0) != (step[:, 1] == 0))  # sides along pixel edges
    turn = step[:, 0] * np.roll(step[:, 1], 1) - step[:, 1] * np.roll(step[:, 0], 1)
    assert np.all(turn != 0)  # one vertex per change of direction
    assert np.abs(step).sum() == exposed_edges(filled)  # the whole boundary in one loop
    # The start is ImageJ's: the bottom end of the right side of the top row's first run.
    row, col = np.argwhere(blob)[0]
    end = col + np.argmin(np.append(filled[row, col:], False))  # first column after the run
    bottom = row + 1
    while bottom < filled.shape[0] and filled[bottom, end - 1]:
        if end < filled.shape[1] and filled[bottom, end]:
            break
        bottom += 1
    np.testing.assert_array_equal(outline[0], [bottom - 0.5, end - 0.5])
    np.testing.assert_array_equal(outline[-2:], [[row - 0.5, col - 0.5], [row - 0.5, end - 0.5]])
    return bool((filled & ~blob).any())


@pytest.mark.parametrize("connectivity", [8, 4])
def test_random_blobs_have_the_area_and_centroid_of_their_pixels(connectivity):
    checked = with_holes = 0
    for seed in range(6):
        for blob in random_blobs(seed, connectivity):
            with_holes += check_outline(blob, connectivity)
            checked += 1
    assert checked > 40
    assert with_holes >= 3  # holes are exercised: the outline encloses them


def test_single_pixel_and_rectangle():
    one = np.zeros((3, 4), bool)
    one[1, 2] = True
    expected = [[1.5, 2.5], [1.5, 1.5], [0.5, 1.5], [0.5, 2.5]]
    np.testing.assert_array_equal(mask_outline_polygon(one), expected)
    box = np.zeros((20, 30), np.uint8)
    box[0:10, 0:20] = 7
    expected = [[9.5, 19.5], [9.5, -0.5], [-0.5, -0.5], [-0.5, 19.5]]
    np.testing.assert_array_equal(mask_outline_polygon(box), expected)


# ImageJ 1.53t's wand (8-connected, as Analyze Particles calls it) on these blobs: its polygon
# vertices (x, y), pixel corners at integers, in its order. Diagonal contacts, holes, stairs.
WAND_BLOBS = [
    ".##....#......|.###..###.....|..#.#..#......|...#..........|.........####.|"
    "..##.....#..#.|.####....#..##|..##.....####.|...........#..",
    ".#......##....|..#....##.....|...#..###.#...|......#..#....|..............|"
    ".##..#........|.##.#.#.......|...#...#......",
]
WAND_POLYGONS = [
    [
        "3,2 4,2 4,3 5,3 5,4 4,4 4,5 3,5 3,4 2,4 2,3 1,3 1,1 3,1",
        "8,2 9,2 9,3 8,3 8,4 7,4 7,3 6,3 6,2 7,2 7,1 8,1",
        "13,7 14,7 14,8 13,8 13,9 12,9 12,10 11,10 11,9 9,9 9,5 13,5",
        "4,7 5,7 5,8 4,8 4,9 2,9 2,8 1,8 1,7 2,7 2,6 4,6",
    ],
    [
        "2,2 3,2 3,3 4,3 4,4 3,4 3,3 2,3 2,2 1,2 1,1 2,1",
        "10,2 9,2 9,4 10,4 10,3 11,3 11,4 10,4 10,5 9,5 9,4 7,4 7,5 6,5 6,3 7,3 7,2 8,2 8,1 10,1",
        "3,8 4,8 4,7 5,7 5,6 6,6 6,7 7,7 7,8 8,8 8,9 7,9 7,8 6,8 6,7 5,7 5,8 4,8 4,9 3,9 3,8 "
        "1,8 1,6 3,6",
    ],
]


@pytest.mark.parametrize("case", [0, 1])
def test_outline_is_imagej_wand_polygon(case):
    rows = WAND_BLOBS[case].split("|")
    mask = np.array([[char == "#" for char in row] for row in ["." * len(rows[0]), *rows]])
    labels, count = ndi.label(mask, structure=EIGHT)
    assert count == len(WAND_POLYGONS[case])
    for k, text in enumerate(WAND_POLYGONS[case], start=1):
        wand = np.array([point.split(",") for point in text.split()], float)
        outline = mask_outline_polygon(labels == k)
        np.testing.assert_array_equal(outline, wand[:, ::-1] - 0.5)


def test_diagonal_neighbours_pass_through_their_shared_corner_twice():
    pair = np.array([[1, 0], [0, 1]])
    outline = mask_outline_polygon(pair)
    assert len(outline) == 8 and shoelace(outline)[0] == 2
    assert sum(np.array_equal(v, [0.5, 0.5]) for v in outline) == 2
    with pytest.raises(MaskError, match="2 blobs"):
        mask_outline_polygon(pair, connectivity=4)


def test_hole_is_enclosed_and_a_blob_in_a_hole_is_another_blob():
    ring = np.ones((5, 5), bool)
    ring[1:4, 1:4] = False
    expected = [[4.5, 4.5], [4.5, -0.5], [-0.5, -0.5], [-0.5, 4.5]]
    np.testing.assert_array_equal(mask_outline_polygon(ring), expected)
    ring[2, 2] = True
    with pytest.raises(MaskError, match="2 blobs"):
        mask_outline_polygon(ring)


def test_input_is_not_modified():
    blob = random_blobs(0, 8)[0]
    copy = blob.copy()
    mask_outline_polygon(blob)
    np.testing.assert_array_equal(blob, copy)


@pytest.mark.parametrize(
    ("mask", "options", "message"),
    [
        (np.zeros((4, 4)), {}, "no foreground"),
        (np.ones((2, 2, 2)), {}, "2-D"),
        (np.ones((2, 2)), {"connectivity": 6}, "4 or 8"),
    ],
)
def test_bad_input(mask, options, message):
    with pytest.raises(MaskError, match=message):
        mask_outline_polygon(mask, **options)

"""Blob outlines traced along pixel edges: area, centroid and boundary equal the pixels'."""

from collections import Counter

import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage.draw import polygon

from measurer.analysis.blobs import blob_stats, label_blobs
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
    mask_outline_polygon(blob, holes=True)
    np.testing.assert_array_equal(blob, copy)


def boundary_edges(blob: np.ndarray) -> Counter:
    """Unit pixel edges between the blob and anything else, directed with the blob on the
    right (clockwise on screen round the blob), as ``((row, col), (row, col))`` corner pairs
    in the outline's coordinates."""
    edges = Counter()
    padded = np.pad(blob, 1)
    for r, c in np.argwhere(blob):
        top, left, bottom, right = r - 0.5, c - 0.5, r + 0.5, c + 0.5
        sides = [
            ((-1, 0), (top, left), (top, right)),
            ((0, 1), (top, right), (bottom, right)),
            ((1, 0), (bottom, right), (bottom, left)),
            ((0, -1), (bottom, left), (top, left)),
        ]
        for (dr, dc), start, end in sides:
            if not padded[r + 1 + dr, c + 1 + dc]:
                edges[start, end] += 1
    return edges


def unit_edges(outline: np.ndarray) -> Counter:
    """The closed polygon cut into directed unit edges (its sides run along pixel edges)."""
    edges = Counter()
    for a, b in zip(outline, np.roll(outline, -1, axis=0), strict=True):
        step = np.sign(b - a)
        for k in range(int(np.abs(b - a).sum())):
            edges[tuple(a + k * step), tuple(a + (k + 1) * step)] += 1
    return edges


def check_keyhole(blob: np.ndarray, connectivity: int) -> np.ndarray:
    """Assert that the keyhole outline is exactly the blob's pixels; returns it."""
    outline = mask_outline_polygon(blob, connectivity=connectivity, holes=True)
    area, centroid = shoelace(outline)
    assert area == blob.sum()  # exact: corners are half-integers
    np.testing.assert_allclose(centroid, np.argwhere(blob).mean(axis=0), rtol=0, atol=1e-9)
    rows, cols = polygon(outline[:, 0], outline[:, 1], shape=blob.shape)
    inside = np.zeros_like(blob)
    inside[rows, cols] = True
    np.testing.assert_array_equal(inside, blob)  # pixel centres inside: the blob's, no more
    assert np.all(outline % 1 == 0.5)
    step = np.roll(outline, -1, axis=0) - outline
    assert np.all((step[:, 0] == 0) != (step[:, 1] == 0))  # sides along pixel edges
    turn = step[:, 0] * np.roll(step[:, 1], 1) - step[:, 1] * np.roll(step[:, 0], 1)
    assert np.all((turn != 0) | (np.sign(step) == -np.sign(np.roll(step, 1, axis=0))).all(1))
    # Every boundary edge once, blob on the right (holes the other way round); every other
    # edge (a bridge) once each way, between two blob pixels: zero width, inside the blob.
    edges, boundary = unit_edges(outline), boundary_edges(blob)
    bridges = edges - boundary
    assert edges - bridges == boundary
    for (a, b), n in bridges.items():
        assert n == 1 and bridges[b, a] == 1
        (r0, c0), (r1, _) = np.minimum(a, b) + 0.5, np.maximum(a, b) + 0.5
        across = [(r0 - 1, c0), (r0, c0)] if r0 == r1 else [(r0, c0 - 1), (r0, c0)]
        assert all(blob[r, c] for r, c in np.array(across, int))
    return outline


def holed_blobs(seed: int, connectivity: int) -> list[np.ndarray]:
    """Every blob of a seeded random mask full of holes, with blobs inside some holes."""
    rng = np.random.default_rng(seed)
    noise = ndi.gaussian_filter(rng.random((40, 56)), 0.8)
    mask = noise > np.quantile(noise, 0.45)
    mask[rng.random(mask.shape) < 0.04] = False  # pinholes, some touching others by a corner
    labels, count = ndi.label(mask, structure=EIGHT if connectivity == 8 else None)
    return [labels == k for k in range(1, count + 1)]


@pytest.mark.parametrize("connectivity", [8, 4])
def test_keyhole_outline_is_exactly_the_pixels_of_blobs_with_holes(connectivity):
    background = None if connectivity == 8 else EIGHT
    checked = with_holes = many_holes = in_holes = 0
    for seed in range(4):
        blobs = holed_blobs(seed, connectivity)
        for blob in blobs:
            filled = ndi.binary_fill_holes(blob, structure=background)
            holes = ndi.label(filled & ~blob, structure=background)[1]
            outline = check_keyhole(blob, connectivity)
            if holes == 0:  # no hole: the outer outline itself
                np.testing.assert_array_equal(
                    outline, mask_outline_polygon(blob, connectivity=connectivity)
                )
            with_holes += holes > 0
            many_holes += holes >= 5
            in_holes += sum(bool((filled & other).any()) for other in blobs if other is not blob)
            checked += 1
    assert checked > 50 and with_holes >= 8 and many_holes >= 3
    assert in_holes >= 3  # blobs inside holes are blobs of their own, outside the keyhole


def test_ring_keyhole_and_a_blob_in_its_hole():
    ring = np.ones((5, 5), bool)
    ring[1:4, 1:4] = False
    # Up from the hole's top-left corner to the top side, round the hole, back up.
    expected = [
        [4.5, 4.5], [4.5, -0.5], [-0.5, -0.5], [-0.5, 0.5], [3.5, 0.5], [3.5, 3.5],
        [0.5, 3.5], [0.5, 0.5], [-0.5, 0.5], [-0.5, 4.5],
    ]  # fmt: skip
    for connectivity in (8, 4):
        outline = mask_outline_polygon(ring, connectivity=connectivity, holes=True)
        np.testing.assert_array_equal(outline, expected)
    # Rings in rings: each blob's keyhole leaves out its hole, with the blobs inside it.
    mask = np.zeros((25, 25), bool)
    for outer, inner in ((1, 3), (5, 7), (9, 11)):
        mask[outer : 25 - outer, outer : 25 - outer] = True
        mask[inner : 25 - inner, inner : 25 - inner] = False
    mask[12, 12] = True
    labels, count = ndi.label(mask, structure=EIGHT)
    assert count == 4
    outlines = [check_keyhole(labels == k, 8) for k in range(1, count + 1)]
    areas = [shoelace(outline)[0] for outline in outlines]
    assert areas == [23**2 - 19**2, 15**2 - 11**2, 7**2 - 3**2, 1] and sum(areas) == mask.sum()
    enclosing = [shoelace(mask_outline_polygon(labels == k))[0] for k in range(1, count + 1)]
    assert enclosing == [23**2, 15**2, 7**2, 1]


def test_holes_have_the_other_connectivity():
    # A hole touching the outside at a corner: a hole of the 8-connected blob (4-connected
    # background), but no hole of the 4-connected blob (8-connected background), whose outer
    # outline already turns in there. Both keyholes are the same path: the zero-length bridge
    # of the 8-connected blob is that corner.
    notch = np.ones((4, 4), bool)
    notch[0, 0] = notch[1, 1] = notch[1, 2] = notch[2, 1] = notch[2, 2] = False
    assert shoelace(mask_outline_polygon(notch))[0] == 15  # the hole enclosed
    eight = check_keyhole(notch, 8)
    four = check_keyhole(notch, 4)
    np.testing.assert_array_equal(eight, four)
    np.testing.assert_array_equal(four, mask_outline_polygon(notch, connectivity=4))
    assert sum(np.array_equal(v, [0.5, 0.5]) for v in eight) == 2  # the corner, twice
    # Two hole pixels touching at a corner: two holes of the 8-connected blob, one hole of
    # the 4-connected blob, traced through that corner. The same path again.
    block = np.ones((4, 4), bool)
    block[1, 1] = block[2, 2] = False
    eight, four = check_keyhole(block, 8), check_keyhole(block, 4)
    np.testing.assert_array_equal(eight, four)
    assert sum(np.array_equal(v, [1.5, 1.5]) for v in eight) == 2
    assert shoelace(eight)[0] == 14


def test_blob_stats_outlines_are_the_same_tracing():
    rng = np.random.default_rng(3)
    noise = ndi.gaussian_filter(rng.random((60, 80)), 1.0)
    mask = noise > np.quantile(noise, 0.55)
    result = blob_stats(mask, outlines=True)
    labels = label_blobs(mask)
    assert len(result) > 20
    for i in range(len(result)):
        np.testing.assert_array_equal(result.outline(i), mask_outline_polygon(labels == i + 1))

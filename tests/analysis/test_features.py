"""Local features: keypoints in (row, col), matched regions of crops, rotations and rescales."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from skimage import data, transform

from measurer.analysis import features


@pytest.fixture(scope="module")
def camera_keypoints() -> features.Keypoints:
    return features.detect_keypoints(data.camera())


def outline(top: float, left: float, bottom: float, right: float) -> np.ndarray:
    """Outer pixel edges of rows top..bottom, cols left..right (inclusive), as the region."""
    return np.array(
        [
            [top - 0.5, left - 0.5],
            [top - 0.5, right + 0.5],
            [bottom + 0.5, right + 0.5],
            [bottom + 0.5, left - 0.5],
        ]
    )


def test_keypoints_are_row_col_in_the_image_given():
    image = np.zeros((200, 400), np.uint8)
    image[60:121, 200:301] = 200  # a bright block: corners at rows 60/120, cols 200/300
    found = features.detect_keypoints(image)
    assert len(found.points) >= 4
    assert found.points[:, 0].min() >= 57 and found.points[:, 0].max() <= 123
    assert found.points[:, 1].min() >= 197 and found.points[:, 1].max() <= 303
    assert found.descriptors.shape == (len(found.points), 32)
    assert found.shape == (200, 400)
    as_dict = json.loads(json.dumps(found.to_dict()))
    assert len(as_dict["points"]) == len(as_dict["descriptors"]) == len(found.points)


def test_crop_is_found_with_its_region(camera_keypoints):
    crop = data.camera()[60:460, 80:440]
    match = features.match_keypoints(features.detect_keypoints(crop), camera_keypoints)
    assert match.similarity == 1.0 and match.inliers >= 100
    # The crop's outline drawn in the camera image: rows 60..459, cols 80..439.
    np.testing.assert_allclose(match.region_in_b, outline(60, 80, 459, 439), atol=1.5)
    # And the camera's outline drawn in the crop: shifted by the crop's origin.
    np.testing.assert_allclose(match.region_in_a, outline(-60, -80, 451, 431), atol=3)
    as_dict = json.loads(json.dumps(match.to_dict()))
    assert len(as_dict["region_in_b"]) == 4 and len(as_dict["homography"]) == 3


def test_rotation_is_recovered(camera_keypoints):
    rotated = transform.rotate(data.camera(), 10, mode="reflect", preserve_range=True)
    match = features.match_keypoints(features.detect_keypoints(rotated), camera_keypoints)
    assert match.similarity >= 0.8
    h = match.homography / match.homography[2, 2]
    angle = np.degrees(np.arctan2(h[1, 0], h[0, 0]))
    assert abs(abs(angle) - 10) < 0.5
    # Rotation about the centre: the centre stays put.
    np.testing.assert_allclose(h @ [255.5, 255.5, 1], [255.5, 255.5, 1], atol=1.5)


def test_enlarged_copy_maps_pixel_edges_onto_pixel_edges(camera_keypoints):
    enlarged = cv2.resize(data.camera(), (1024, 1024), interpolation=cv2.INTER_CUBIC)
    match = features.match_keypoints(features.detect_keypoints(enlarged), camera_keypoints)
    assert match.similarity > 0.5
    np.testing.assert_allclose(match.region_in_b, outline(0, 0, 511, 511), atol=3)


def test_unrelated_and_featureless_images_do_not_match(camera_keypoints):
    other = features.match_keypoints(features.detect_keypoints(data.astronaut()), camera_keypoints)
    assert other.similarity == 0.0 and other.homography is None and other.region_in_b is None
    assert other.inliers < features.MIN_INLIERS
    flat = features.detect_keypoints(np.full((50, 60), 3.0))
    assert len(flat.points) == 0
    assert features.match_keypoints(flat, camera_keypoints) == features.FeatureMatch(0.0, 0, 0)


def test_bad_options_and_input():
    with pytest.raises(ValueError, match="max_keypoints"):
        features.detect_keypoints(data.camera(), max_keypoints=0)
    with pytest.raises(ValueError, match="NaN"):
        features.detect_keypoints(np.full((40, 40), np.nan))
    with pytest.raises(ValueError, match="grey or RGB"):
        features.detect_keypoints(np.zeros((4, 4, 4, 4)))
    some = features.detect_keypoints(data.camera())
    with pytest.raises(ValueError, match="ratio"):
        features.match_keypoints(some, some, ratio=0)

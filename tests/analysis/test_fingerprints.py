"""Image fingerprints: hash bits, Hamming similarity, Earth Mover's distance, SSIM, combination."""

from __future__ import annotations

import dataclasses
import itertools
import json

import numpy as np
import pytest
from skimage import data
from skimage.metrics import structural_similarity

from measurer.analysis import fingerprints as fp


@pytest.fixture(scope="module")
def camera() -> np.ndarray:
    return data.camera()


def similarities(query: fp.Fingerprint, *others: fp.Fingerprint) -> tuple[np.ndarray, ...]:
    return (
        fp.hash_similarity(query, np.stack([o.hashes for o in others])),
        fp.histogram_similarity(query, np.stack([o.cdfs for o in others])),
        fp.ssim_similarity(query, np.stack([o.thumbnail for o in others])),
    )


def test_an_image_is_identical_to_itself(camera):
    made = fp.fingerprint(camera)
    hashes, hist, ssim = similarities(made, made)
    assert hashes[0] == 1.0 and hist[0] == 1.0
    assert ssim[0] == pytest.approx(1.0, abs=1e-6)
    assert fp.combined_similarity(hashes, ssim, hist, np.ones(1))[0] == pytest.approx(1.0)


def test_layout_and_types(camera):
    made = fp.fingerprint(camera)
    assert made.hashes.shape == made.hashes_mirrored.shape == (fp.HASH_BYTES,) == (80,)
    assert made.cdfs.shape == (4, fp.HIST_BINS) and (made.cdfs[:, -1] == 255).all()
    assert (np.diff(made.cdfs.astype(int), axis=1) >= 0).all()  # cumulative
    assert made.thumbnail.shape == (fp.THUMB_SIZE, fp.THUMB_SIZE)
    assert {a.dtype for a in (made.hashes, made.cdfs, made.thumbnail)} == {np.dtype(np.uint8)}
    assert made.shape == (512, 512)
    as_dict = json.loads(json.dumps(made.to_dict()))
    assert len(as_dict["dhash64"]) == 16 and len(as_dict["phash256_mirrored"]) == 64
    assert as_dict["dhash64"] == made.hashes[:8].tobytes().hex()


def test_difference_hash_bits_of_a_ramp():
    # Brightness rises to the right: every 'brighter than the left neighbour' bit is set,
    # and none of the mirror image's.
    ramp = np.tile(np.arange(72, dtype=np.uint8) * 3, (64, 1))
    made = fp.fingerprint(ramp)
    assert (made.hashes[:8] == 0xFF).all()  # dHash-64
    assert (made.hashes[16:48] == 0xFF).all()  # dHash-256
    assert (made.hashes_mirrored[:8] == 0).all() and (made.hashes_mirrored[16:48] == 0).all()


def test_mirrored_image_is_found_by_the_mirrored_hashes():
    image = data.astronaut()
    made, mirrored = fp.fingerprint(image), fp.fingerprint(image[:, ::-1])
    assert np.array_equal(mirrored.hashes, made.hashes_mirrored)
    assert fp.hash_similarity(made, mirrored.hashes[None])[0] == 1.0
    blind = dataclasses.replace(made, hashes_mirrored=made.hashes)
    assert fp.hash_similarity(blind, mirrored.hashes[None])[0] < 0.3
    assert fp.ssim_similarity(made, mirrored.thumbnail[None])[0] > 0.99


def test_hash_similarity_counts_differing_bits(camera):
    made = fp.fingerprint(camera)
    made = dataclasses.replace(made, hashes_mirrored=made.hashes)  # one orientation only
    other = made.hashes.copy()
    other[16:18] ^= 0xFF  # 16 bits of dHash-256
    changed_64 = made.hashes.copy()
    changed_64[0] ^= 0xFF  # 8 bits of dHash-64
    result = fp.hash_similarity(made, np.stack([other, changed_64, ~made.hashes]))
    # 1 - 2 * mean over the four hashes of the fraction of differing bits
    assert result[0] == pytest.approx(1 - 2 * (16 / 256) / 4)
    assert result[1] == pytest.approx(1 - 2 * (8 / 64) / 4)
    assert result[2] == 0.0  # every bit differs: clipped


def test_popcount_lookup_table_for_old_numpy(monkeypatch):
    words = np.random.default_rng(3).integers(0, 2**63, (50, 10), dtype=np.uint64)
    expected = np.vectorize(lambda w: bin(int(w)).count("1"))(words)
    assert np.array_equal(fp.popcount(words), expected)
    monkeypatch.delattr(np, "bitwise_count", raising=False)
    assert np.array_equal(fp.popcount(words), expected)


def test_comparisons_over_many_rows_agree_with_direct_ones():
    # More rows than are compared at once: every chunk and every boundary between them.
    rng = np.random.default_rng(11)
    count = 20_000
    hashes = rng.integers(0, 256, (count, fp.HASH_BYTES), dtype=np.uint8)
    cdfs = np.sort(rng.integers(0, 256, (count, 4, fp.HIST_BINS), dtype=np.uint8), axis=2)
    query = fp.fingerprint(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8))
    equal = [0, 8191, 8192, 16384, count - 1]
    hashes[equal] = query.hashes
    hashes[5] = query.hashes_mirrored
    cdfs[equal] = query.cdfs

    def differing(reference: np.ndarray) -> np.ndarray:
        """Fraction of differing bits of each row, averaged over the four hashes."""
        bits = np.unpackbits(hashes ^ reference, axis=1)
        ends = np.cumsum([0] + [n for _, n in fp.HASH_LAYOUT])
        return np.mean([bits[:, a:b].mean(axis=1) for a, b in itertools.pairwise(ends)], axis=0)

    fraction = np.minimum(differing(query.hashes), differing(query.hashes_mirrored))
    found = fp.hash_similarity(query, hashes)
    np.testing.assert_allclose(found, np.clip(1 - 2 * fraction, 0, 1), rtol=0, atol=1e-12)
    assert (found[[*equal, 5]] == 1).all() and found.mean() < 0.1
    emd = np.abs(cdfs.astype(int) - query.cdfs).mean(axis=(1, 2)) / 255  # W1, averaged
    found = fp.histogram_similarity(query, cdfs)
    expected = np.clip(1 - emd / fp.EMD_UNRELATED, 0, 1)
    np.testing.assert_allclose(found, expected, rtol=0, atol=1e-12)
    assert (found[equal] == 1).all() and 0 < found.mean() < 0.9


def test_unrelated_noise_scores_near_zero():
    rng = np.random.default_rng(0)
    one, two = (fp.fingerprint(rng.integers(0, 256, (128, 128), dtype=np.uint8)) for _ in "ab")
    hashes, _, ssim = similarities(one, two)
    assert hashes[0] < 0.3  # expectation 0: half the bits differ
    assert ssim[0] < 0.2


def test_histogram_similarity_is_earth_movers_distance():
    # Half black, half white against a uniform ramp: the distributions differ by
    # W1 = integral of |0.5 - x| dx = 0.25 of the range, minus the binning (32 bins:
    # 240/1024), so 1 - W1 / 0.25 is about 1/16.
    halves = np.zeros((64, 256), np.uint8)
    halves[:, 128:] = 255
    ramp = np.tile(np.arange(256, dtype=np.uint8), (64, 1))
    result = fp.histogram_similarity(fp.fingerprint(halves), fp.fingerprint(ramp).cdfs[None])
    assert result[0] == pytest.approx(1 - (240 / 1024) / fp.EMD_UNRELATED, abs=0.02)


def test_exposure_and_padding_hardly_matter(camera):
    made = fp.fingerprint(camera)
    darker = fp.fingerprint(np.clip(camera * 0.8 + 10, 0, 255).astype(np.uint8))
    hashes, hist, ssim = similarities(made, darker)
    assert hashes[0] >= 0.95 and hist[0] >= 0.97 and ssim[0] >= 0.98
    # A black frame (the corners of a rotated copy) is left out of the histograms.
    framed = fp.fingerprint(np.pad(camera, 40))
    assert fp.histogram_similarity(made, framed.cdfs[None])[0] >= 0.95


def test_ssim_agrees_with_scikit_image(camera):
    query = fp.fingerprint(camera)
    rng = np.random.default_rng(1)
    noisy = np.clip(query.thumbnail + rng.normal(0, 20, query.thumbnail.shape), 0, 255)
    others = np.stack(
        [
            noisy.astype(np.uint8),
            fp.fingerprint(data.astronaut()).thumbnail,
            fp.fingerprint(data.coins()).thumbnail,
        ]
    )
    result = fp.ssim_similarity(query, others)
    for thumb, value in zip(others, result, strict=True):
        expected = max(
            structural_similarity(
                q.astype(float),
                thumb.astype(float),
                win_size=7,
                data_range=255,
                gaussian_weights=False,
                use_sample_covariance=False,
            )
            for q in (query.thumbnail, query.thumbnail[:, ::-1])
        )
        assert value == pytest.approx(max(expected, 0.0), abs=1e-4)
    assert result[0] > 0.6 > result[1]
    assert len(fp.ssim_similarity(query, others[:0])) == 0


def test_any_dtype_and_alpha():
    image = data.astronaut()
    made = fp.fingerprint(image)
    rgba = np.dstack([image, np.full(image.shape[:2], 7, np.uint8)])
    exact = fp.fingerprint(rgba)
    assert np.array_equal(exact.hashes, made.hashes) and np.array_equal(exact.cdfs, made.cdfs)
    for other in (image.astype(np.uint16) * 257, image / 255.0, image[:, :, :1] > 100):
        hashes, hist, ssim = similarities(made, fp.fingerprint(other))
        if other.dtype != bool:
            assert hashes[0] >= 0.98 and hist[0] >= 0.97 and ssim[0] >= 0.99
    before = image.copy()
    fp.fingerprint(image)
    assert np.array_equal(image, before)


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros(10),
        np.zeros((5, 5, 2)),
        np.zeros((1, 10)),
        np.full((8, 8), np.nan),
        np.array([["a", "b"], ["c", "d"]]),
    ],
)
def test_bad_input_is_a_readable_value_error(bad):
    with pytest.raises(ValueError, match="image"):
        fp.fingerprint(bad)


def test_ssim_window_must_be_odd(camera):
    made = fp.fingerprint(camera)
    with pytest.raises(ValueError, match="odd"):
        fp.ssim_similarity(made, made.thumbnail[None], window=6)


def test_combined_similarity():
    h, s, c = np.array([0.5, 0.9]), np.array([0.2, 0.9]), np.array([0.8, 0.9])
    assert fp.combined_similarity(h, s, c) == pytest.approx([0.5, 0.9])
    # Features raise a crop's score (0.9 f + 0.1 a), never lower a near-copy's.
    assert fp.combined_similarity(h, s, c, np.array([1.0, 0.0])) == pytest.approx([0.95, 0.9])

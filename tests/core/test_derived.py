"""Detections with landmarks: derived distances follow every edit, undo and calibration."""

import math

import numpy as np
import pytest

from measurer.core.annotations import Annotation, Kind, Origin
from measurer.core.calibration import Calibration
from measurer.core.commands import AnalysisStep, ApplyDetection, RemoveAnnotations, move_vertices
from measurer.core.derived import DerivedRow, register_derived
from measurer.core.document import Document


def landmark(role, row, col):
    return Annotation(0, Kind.POINTS, [(row, col)], label=role, role=role)


def detection(doc, parameters):
    shapes = [landmark("deepest", 40, 10), landmark("margin", 10, 50)]
    doc.apply(ApplyDetection(AnalysisStep("demo", parameters), shapes))
    return {a.role: a.id for a in doc.annotations.values()}


def distance_rows(doc):
    return [r for r in doc.measurements.rows if r["Kind"] == "distance"]


def test_landmark_distance_follows_a_drag_and_undo():
    doc = Document(np.zeros((64, 64), np.uint8))
    ids = detection(doc, {"distances": [["deepest", "margin", "depth"]]})
    (row,) = distance_rows(doc)
    assert row["Label"] == "depth"
    assert row["Length (px)"] == pytest.approx(50.0)  # 30 rows, 40 columns
    assert row["Origin"] == "automatic"
    doc.apply(move_vertices(doc, ids["margin"], [(40, 50)]))
    (row,) = distance_rows(doc)
    assert row["Length (px)"] == pytest.approx(40.0)
    assert row["Origin"] == Origin.CORRECTED.value
    doc.undo()
    assert distance_rows(doc)[0]["Length (px)"] == pytest.approx(50.0)


def test_landmark_distance_uses_anisotropic_calibration():
    doc = Document(np.zeros((64, 64), np.uint8), calibration=Calibration(2.0, 0.5, "µm"))
    detection(doc, {"distances": [["deepest", "margin", "depth"]]})
    (row,) = distance_rows(doc)
    assert row["Length (µm)"] == pytest.approx(math.hypot(30 * 0.5, 40 * 2.0))
    table = doc.measurements
    assert "Length (µm)" in table.headers


def test_deleting_a_landmark_removes_its_distance_and_undo_restores_it():
    doc = Document(np.zeros((64, 64), np.uint8))
    ids = detection(doc, {"distances": [["deepest", "margin", "depth"]]})
    doc.apply(RemoveAnnotations([ids["deepest"]]))
    assert distance_rows(doc) == []
    doc.undo()
    assert len(distance_rows(doc)) == 1


def test_a_registered_builder_replaces_the_default_and_selects_its_sources():
    def builder(annotations, calibration, parameters):
        ids = tuple(a.id for a in annotations)
        return [
            DerivedRow(
                {
                    "ID": "n",
                    "Kind": "count",
                    "Label": "",
                    "Origin": "automatic",
                    "Count": len(annotations),
                },
                ids,
            )
        ]

    register_derived("counting", builder)
    doc = Document(np.zeros((8, 8), np.uint8))
    doc.apply(
        ApplyDetection(AnalysisStep("counting", {}), [landmark("a", 1, 1), landmark("b", 2, 2)])
    )
    table = doc.measurements
    (index,) = [i for i, r in enumerate(table.rows) if r["Kind"] == "count"]
    assert table.rows[index]["Count"] == 2
    assert table.annotation_ids[index] in doc.annotations


def test_role_survives_a_session_round_trip(tmp_path):
    from measurer.io.session import load_session, save_session

    path = tmp_path / "img.png"
    from PIL import Image

    Image.fromarray(np.zeros((64, 64), np.uint8)).save(path)
    doc = Document(np.zeros((64, 64), np.uint8), path=path)
    detection(doc, {"distances": [["deepest", "margin", "depth"]]})
    expected = doc.measurements.rows
    save_session(doc)
    again = Document(np.zeros((64, 64), np.uint8), path=path)
    load_session(tmp_path / "img.png.measurer.json", again)
    assert {a.role for a in again.annotations.values()} == {"deepest", "margin"}
    assert again.measurements.rows == expected

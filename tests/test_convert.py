"""The converter: identical to a straight port of the official script; CLI codes and messages."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from factories import two_object_planes, write_catalog, write_label_png
from placeseg_core.catalog import load_catalog
from placeseg_core.cli.main import main
from placeseg_core.convert import convert_annotations, dump_ground_truth
from placeseg_core.convert_reference import convert_reference
from placeseg_core.demo import build_demo
from placeseg_core.errors import InputError


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return build_demo(tmp_path_factory.mktemp("demo") / "d", n_images=12, seed=3)


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("first_id", [0, 1])
def test_output_is_byte_identical_to_official_port(demo, workers, first_id):
    ours = convert_annotations(demo.annotation_dir, load_catalog(demo.catalog_path), first_id, workers=workers)
    ref = convert_reference(str(demo.annotation_dir), str(demo.catalog_path), first_id)
    assert dump_ground_truth(ours.dataset) == json.dumps(ref)
    assert ours.dataset["annotations"][0]["id"] == first_id
    assert ours.findings == []


def test_mixed_reds_and_images_without_png(tmp_path):
    cat_path = write_catalog(
        tmp_path / "c.json",
        [("ADE_val_00000001.jpg", 20210, 60, 40), ("ADE_val_00000002.jpg", 20211, 60, 40),
         ("ADE_val_00000003.jpg", 20212, 60, 40)],
    )
    red, green = two_object_planes()
    red[20, 30] = 9
    ann = tmp_path / "ann"
    write_label_png(ann / "ADE_val_00000003.png", red, green)
    write_label_png(ann / "ADE_val_00000001.png", np.zeros((40, 60), np.uint8), np.zeros((40, 60), np.uint8))
    ours = convert_annotations(ann, load_catalog(cat_path), workers=1)
    ref = convert_reference(str(ann), str(cat_path))
    assert ours.dataset == ref
    assert [im["id"] for im in ours.dataset["images"]] == [20210, 20212]  # only images with a PNG
    assert [a["category_id"] for a in ours.dataset["annotations"]] == [1, 9]
    assert [f.code for f in ours.findings] == ["multiple-categories"]


def test_png_of_unknown_image_is_an_input_error(tmp_path):
    cat = load_catalog(write_catalog(tmp_path / "c.json", [("ADE_val_00000001.jpg", 20210, 60, 40)]))
    red, green = two_object_planes()
    write_label_png(tmp_path / "ann" / "ADE_val_00000099.png", red, green)
    with pytest.raises(InputError, match="ADE_val_00000099.jpg is not in"):
        convert_annotations(tmp_path / "ann", cat)


def _setup(tmp_path):
    cat = write_catalog(tmp_path / "c.json", [("ADE_val_00000001.jpg", 20210, 60, 40)])
    red, green = two_object_planes()
    write_label_png(tmp_path / "ann" / "ADE_val_00000001.png", red, green)
    return cat, tmp_path / "ann"


def test_cli_converts_and_reports(tmp_path, capsys):
    cat, ann = _setup(tmp_path)
    out = tmp_path / "gt.json"
    assert main(["convert", str(ann), "--img-cat-ids", str(cat), "-o", str(out), "--first-id", "1"]) == 0
    data = json.loads(out.read_text())
    assert [a["id"] for a in data["annotations"]] == [1, 2]
    assert "2 annotations from 1 PNGs" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("break_it", "message"),
    [
        (lambda t, cat, ann: cat.unlink(), "c.json: file not found"),
        (lambda t, cat, ann: cat.write_text("{"), "invalid JSON at line 1"),
        (lambda t, cat, ann: [p.unlink() for p in ann.iterdir()] and ann.rmdir(), "annotation folder not found"),
        (lambda t, cat, ann: (ann / "ADE_val_00000001.png").write_bytes(b"garbage"), "cannot read as PNG"),
        (
            lambda t, cat, ann: write_label_png(ann / "ADE_val_00000042.png", *two_object_planes()),
            "ADE_val_00000042.jpg is not in",
        ),
    ],
)
def test_cli_unusable_input_exits_2_with_one_line(tmp_path, capsys, break_it, message):
    cat, ann = _setup(tmp_path)
    break_it(tmp_path, cat, ann)
    out = tmp_path / "gt.json"
    assert main(["convert", str(ann), "--img-cat-ids", str(cat), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and err[0].startswith("placeseg convert: error:")
    assert not out.exists()


def test_cli_wrong_size_is_a_warning(tmp_path, capsys):
    cat = write_catalog(tmp_path / "c.json", [("ADE_val_00000001.jpg", 20210, 683, 512)])
    red, green = two_object_planes()
    write_label_png(tmp_path / "ann" / "ADE_val_00000001.png", red, green)
    out = tmp_path / "gt.json"
    assert main(["convert", str(tmp_path / "ann"), "--img-cat-ids", str(cat), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "warning: size-mismatch: 1 finding(s)" in err and "60×40" in err
    assert out.exists()


def test_existing_output_survives_a_failed_run(tmp_path):
    cat, ann = _setup(tmp_path)
    out = tmp_path / "gt.json"
    out.write_text("precious")
    (ann / "ADE_val_00000001.png").write_bytes(b"garbage")
    assert main(["convert", str(ann), "--img-cat-ids", str(cat), "-o", str(out)]) == 2
    assert out.read_text() == "precious"


def test_cli_runs_as_a_program_without_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "placeseg_core.cli.main", "convert", str(tmp_path / "none"),
         "--img-cat-ids", str(tmp_path / "none.json"), "-o", str(tmp_path / "o.json")],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "file not found" in proc.stderr

"""imgCatIds.json records, clear errors for malformed files, and data set discovery."""

from __future__ import annotations

import json

import pytest

from factories import write_catalog
from placeseg_core.catalog import load_catalog, split_of_file_name
from placeseg_core.errors import InputError
from placeseg_core.layout import discover


def test_real_kit_catalog(shared_dir):
    cat = load_catalog(shared_dir / "placeschallenge" / "imgCatIds.json")
    assert len(cat.images) == 25562 and len(cat.categories) == 100
    assert cat.by_file_name["ADE_val_00000001.jpg"].id == 20210
    assert cat.by_id[22210].file_name == "ADE_test_00000001.jpg"
    assert len(cat.split_images("val")) == 2000
    assert len(cat.split_images("train")) == 20210
    assert len(cat.split_images("test")) == 3352
    assert cat.category_name(100) == "flag"


def test_records_and_splits(tmp_path):
    cat = load_catalog(write_catalog(tmp_path / "c.json", [("ADE_val_00000007.jpg", 20216, 683, 512)]))
    im = cat.by_id[20216]
    assert (im.split, im.file_number, im.stem) == ("val", 7, "ADE_val_00000007")
    assert split_of_file_name("ADE_test_00000002.jpg") == "test"
    assert split_of_file_name("foo.jpg") is None


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "the file is empty"),
        (b'{"images": [', "invalid JSON at line 1"),
        (b"\xff\xfe\x00", "not UTF-8"),
        (b"[]", "expected a JSON object"),
        (b'{"images": []}', "missing field 'categories'"),
        (b'{"images": {}, "categories": []}', "field 'images' must be a list"),
        (b'{"images": [{"id": 1}], "categories": []}', "images[0]: missing field 'file_name'"),
        (
            b'{"images": [{"id": "1", "file_name": "a.jpg", "width": 1, "height": 1}], "categories": []}',
            "images[0].id: expected an integer",
        ),
        (
            b'{"images": [{"id": 1, "file_name": "a.jpg", "width": 0, "height": 1}], "categories": []}',
            "images[0].width: expected a positive integer",
        ),
        (b'{"images": [], "categories": [{"id": 1}]}', "categories[0]: expected an object"),
    ],
)
def test_malformed_catalog_messages(tmp_path, content, expected):
    path = tmp_path / "imgCatIds.json"
    path.write_bytes(content)
    with pytest.raises(InputError) as info:
        load_catalog(path)
    assert expected in str(info.value)
    assert str(path) in str(info.value)


def test_missing_catalog_and_folder_instead_of_file(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        load_catalog(tmp_path / "nope.json")
    with pytest.raises(InputError, match="is a folder"):
        load_catalog(tmp_path)


def test_duplicate_image_id(tmp_path):
    path = write_catalog(tmp_path / "c.json", [("a.jpg", 1, 2, 2), ("b.jpg", 1, 2, 2)])
    with pytest.raises(InputError, match="image id 1 appears twice"):
        load_catalog(path)


def test_discover_challenge_layout_and_variant(tmp_path):
    (tmp_path / "images" / "training").mkdir(parents=True)
    (tmp_path / "annotations_instance" / "validation").mkdir(parents=True)
    write_catalog(tmp_path / "imgCatIds.json", [("ADE_val_00000001.jpg", 20210, 4, 4)])
    # The kit's text once listed validation images under images/training: accept that.
    (tmp_path / "images" / "training" / "ADE_val_00000001.jpg").write_bytes(b"x")
    (tmp_path / "annotations_instance" / "validation" / "ADE_val_00000001.png").write_bytes(b"x")
    layout = discover(tmp_path)
    assert layout.catalog == tmp_path / "imgCatIds.json"
    assert set(layout.images) == {"train"} and set(layout.annotations) == {"val"}
    assert layout.image_path("ADE_val_00000001.jpg", "val") == tmp_path / "images/training/ADE_val_00000001.jpg"
    assert layout.annotation_path("ADE_val_00000001.jpg", "val").name == "ADE_val_00000001.png"
    assert layout.predictions is None


def test_discover_rejects_non_dataset(tmp_path):
    with pytest.raises(InputError, match="no images/<split>"):
        discover(tmp_path)
    with pytest.raises(InputError, match="folder not found"):
        discover(tmp_path / "absent")
    json.dumps({})

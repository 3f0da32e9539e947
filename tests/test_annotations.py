"""The annotation decoder on hand-made PNGs: instances, and every integrity finding as data."""

from __future__ import annotations

import numpy as np
from PIL import Image

from factories import two_object_planes, write_label_png
from placeseg_core import annotations as ann
from placeseg_core import rle
from placeseg_core.catalog import ImageRecord


def record(w: int, h: int, name: str = "ADE_val_00000001.jpg") -> ImageRecord:
    return ImageRecord(id=20210, file_name=name, width=w, height=h, split="val")


def codes(decoded: ann.DecodedAnnotation) -> list[str]:
    return [f.code for f in decoded.findings]


def test_instances_area_bbox_category_and_rle(tmp_path):
    red, green = two_object_planes()
    path = write_label_png(tmp_path / "a.png", red, green)
    d = ann.decode_annotation(path, record(60, 40))
    assert codes(d) == []
    assert [(i.instance_id, i.category_id, i.area) for i in d.instances] == [(1, 1, 200), (2, 4, 300)]
    assert d.instances[0].bbox == (5.0, 5.0, 20.0, 10.0)
    assert d.instances[1].bbox == (30.0, 20.0, 20.0, 15.0)
    assert d.instances[1].rle == rle.encode(green == 2)
    assert isinstance(d.instances[1].rle["counts"], str)


def test_category_is_red_at_first_row_major_pixel_and_mixed_reds_are_reported(tmp_path):
    red, green = two_object_planes()
    # Instance 2 spans rows 20..34, cols 30..49. Its first row-major pixel is (20, 30).
    red[20, 30] = 9  # first pixel says 9 ...
    red[25:35, 30:50] = 7  # ... most of it says 7, the rest 4
    d = ann.decode_annotation(write_label_png(tmp_path / "a.png", red, green), record(60, 40))
    inst = d.instances[1]
    assert inst.category_id == 9
    assert inst.red_values == {9: 1, 4: 99, 7: 200}
    (finding,) = d.findings
    assert finding.code == ann.MULTIPLE_CATEGORIES
    assert finding.instance_id == 2
    assert "3 red values" in finding.message and "7: 200 px" in finding.message


def test_column_major_first_pixel_would_differ(tmp_path):
    # A diagonal-ish instance where the first pixel in column-major order has another red.
    red = np.zeros((10, 10), np.uint8)
    green = np.zeros((10, 10), np.uint8)
    green[2, 5] = green[6, 1] = 3
    red[2, 5], red[6, 1] = 11, 12  # row-major first: (2,5) -> 11; column-major first: (6,1) -> 12
    d = ann.decode_annotation(write_label_png(tmp_path / "a.png", red, green), record(10, 10))
    assert d.instances[0].category_id == 11


def test_red_zero_and_out_of_range(tmp_path):
    red, green = two_object_planes()
    red[green == 1] = 0
    red[green == 2] = 150
    d = ann.decode_annotation(write_label_png(tmp_path / "a.png", red, green), record(60, 40))
    assert codes(d) == [ann.CATEGORY_ZERO, ann.CATEGORY_OUT_OF_RANGE]
    assert [f.instance_id for f in d.findings] == [1, 2]
    assert "150" in d.findings[1].message


def test_size_mismatch_names_both_sizes(tmp_path):
    red, green = two_object_planes()
    d = ann.decode_annotation(write_label_png(tmp_path / "a.png", red, green), record(683, 512))
    assert codes(d) == [ann.SIZE_MISMATCH]
    assert "60×40" in d.findings[0].message and "683×512" in d.findings[0].message
    assert len(d.instances) == 2  # still decoded


def test_not_rgb_palette_is_reported_but_read(tmp_path):
    red, green = two_object_planes()
    index = np.zeros(green.shape, np.uint8)
    index[green == 1], index[green == 2] = 1, 2
    img = Image.fromarray(index, mode="P")
    img.putpalette([0, 0, 0, 1, 1, 0, 4, 2, 0] + [0] * (256 * 3 - 9))  # entries = (R, G, B)
    path = tmp_path / "a.png"
    img.save(path)
    d = ann.decode_annotation(path, record(60, 40))
    assert ann.NOT_RGB in codes(d)
    assert [i.instance_id for i in d.instances] == [1, 2]


def test_grey_png_is_unreadable_as_annotation(tmp_path):
    path = tmp_path / "a.png"
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(path)
    d = ann.decode_annotation(path, record(4, 4))
    assert codes(d) == [ann.UNREADABLE]
    assert not d.readable
    assert d.instances == []


def test_corrupt_and_missing_files_are_findings_not_exceptions(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nthis is not a png")
    d = ann.decode_annotation(bad, record(4, 4))
    assert codes(d) == [ann.UNREADABLE] and str(bad) in d.findings[0].message
    d = ann.decode_annotation(tmp_path / "missing.png", record(4, 4))
    assert codes(d) == [ann.MISSING_FILE]
    assert not d.readable


def test_rgba_is_accepted_without_finding(tmp_path):
    red, green = two_object_planes()
    rgba = np.zeros((*green.shape, 4), np.uint8)
    rgba[..., 0], rgba[..., 1], rgba[..., 3] = red, green, 255
    path = tmp_path / "a.png"
    Image.fromarray(rgba).save(path)
    d = ann.decode_annotation(path, record(60, 40))
    assert codes(d) == [] and len(d.instances) == 2


def test_keep_planes_gives_masks(tmp_path):
    red, green = two_object_planes()
    d = ann.decode_annotation(write_label_png(tmp_path / "a.png", red, green), record(60, 40), keep_planes=True)
    assert d.mask(2).sum() == 300
    assert (d.category_plane == red).all()

"""The shared JSON reader: large lists are parsed in pieces with exactly json.loads' result."""

from __future__ import annotations

import json
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from placeseg_core import jsonio


def _big_list(n: int, extra: str = "", ascii_only: bool = True) -> str:
    return json.dumps(
        [{"image_id": i, "segmentation": {"counts": "PQ\\\\" * 50, "size": [5, 5]}, "note": extra} for i in range(n)],
        ensure_ascii=ascii_only,
    )


def test_large_list_in_pieces_equals_json_loads():
    text = _big_list(30000)
    assert len(text) > 3 * (1 << 20)
    pieces = jsonio._loads_list_in_pieces(text)
    assert pieces is not None  # the piecewise path really ran
    assert pieces == json.loads(text) == jsonio.loads(text)
    in_thread: list = []
    worker = threading.Thread(target=lambda: in_thread.append(jsonio.loads(text)))  # pieces there
    worker.start()
    worker.join()
    assert in_thread == [pieces]


def test_cut_inside_a_string_falls_back_to_one_parse():
    # Every item carries the boundary text inside a string: any cut there cannot parse.
    text = _big_list(30000, extra="}, {")
    assert jsonio.loads(text) == json.loads(text)


def test_nested_lists_of_objects_are_not_cut_wrongly():
    inner = [{"a": i} for i in range(200000)]
    text = json.dumps([{"wrapper": inner}, {"b": 1}])
    assert jsonio.loads(text) == json.loads(text)


def test_errors_are_json_loads_errors_with_their_position():
    text = _big_list(30000)
    cut = text.index("}, {", len(text) // 2)
    broken = text[:cut] + "}, ]{" + text[cut + 4 :]
    with pytest.raises(json.JSONDecodeError) as ours:
        jsonio.loads(broken)
    with pytest.raises(json.JSONDecodeError) as ref:
        json.loads(broken)
    assert (ours.value.lineno, ours.value.colno, ours.value.msg) == (ref.value.lineno, ref.value.colno, ref.value.msg)


@given(st.lists(st.recursive(st.none() | st.integers() | st.text(alphabet="{},[] \"\\a"),
                             lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=3), c, max_size=3),
                             max_leaves=6), max_size=30))
def test_any_list_parses_as_json_loads(values):
    text = json.dumps(values)
    saved = jsonio._PIECE_CHARS
    jsonio._PIECE_CHARS = 8  # cut often, so small documents exercise the piecewise path
    try:
        assert jsonio._loads_list_in_pieces(text) in (None, values)
        assert jsonio.loads(text) == values
    finally:
        jsonio._PIECE_CHARS = saved


def test_release_in_pieces_empties_a_list_and_leaves_other_things():
    items = [{"i": k} for k in range(10000)]
    jsonio.release_in_pieces(items, piece=300)
    assert items == []
    text = "not a list"
    jsonio.release_in_pieces(text)
    assert text == "not a list"


def test_validating_parsed_items_leaves_the_callers_list_intact():
    from test_validate_fixtures import make_catalog, valid_items

    from placeseg_core.validate import validate_submission

    items = valid_items()
    before = json.dumps(items)
    report = validate_submission(items, make_catalog())
    assert report.valid and json.dumps(items) == before


def _in_worker(fn):
    """``fn()`` run in a worker thread, where the piecewise paths apply."""
    out: list = []
    worker = threading.Thread(target=lambda: out.append(fn()))
    worker.start()
    worker.join()
    return out[0]


def test_a_large_list_is_parsed_from_its_bytes_in_a_worker_without_decoding_it_whole():
    text = _big_list(30000, extra="é ☃", ascii_only=False) + " "  # multi-byte UTF-8 in every piece
    assert "☃" in text
    raw = text.encode("utf-8")
    assert jsonio.loads_list_bytes(raw) is None  # main thread: the caller's one decode + parse
    assert _in_worker(lambda: jsonio.loads_list_bytes(raw)) == json.loads(text)
    assert _in_worker(lambda: jsonio.parse_json_bytes(raw)) == json.loads(text)
    assert _in_worker(lambda: jsonio.loads_list_bytes(b"\n  " + raw)) == json.loads(text)  # leading whitespace


@pytest.mark.parametrize("damage", [
    pytest.param(lambda raw: raw.replace(b"\xc3\xa9", b"\xc3\x28", 1), id="invalid UTF-8 in a string"),
    pytest.param(lambda raw: raw.replace(b"}, {", b"}\x0c, {", 7), id="form feed between items (not JSON whitespace)"),
    pytest.param(lambda raw: raw.replace(b"}, {", b"}, ]{", 3), id="a stray bracket between items"),
])
def test_a_damaged_file_is_never_accepted_by_the_pieces(damage):
    """Each piece decodes and parses on its own: whatever json.loads refuses, the pieces refuse
    too (None: the caller decodes the whole file and reports json.loads' own error)."""
    raw = damage(_big_list(30000, extra="é", ascii_only=False).encode("utf-8"))
    with pytest.raises(ValueError):  # JSONDecodeError and UnicodeDecodeError alike
        json.loads(raw.decode("utf-8"))
    assert _in_worker(lambda: jsonio.loads_list_bytes(raw)) is None
    with pytest.raises(jsonio.JsonFileError):
        _in_worker_raising(lambda: jsonio.parse_json_bytes(raw, "p.json"))


def _in_worker_raising(fn):
    errors: list = []

    def run() -> None:
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - handed back to the test's thread
            errors.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    if errors:
        raise errors[0]

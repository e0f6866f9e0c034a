"""cek.xlsxstream: the one-sheet workbook the evidence pack's keys.xlsx is written with, read back by openpyxl."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from cek import xlsxstream


def read(path, *, read_only=False):
    return load_workbook(path, read_only=read_only)["keys"]


def test_text_and_numbers_read_back_exactly(tmp_path):
    path = tmp_path / "k.xlsx"
    rows = [
        ["id", "name", "size", "ratio", "flag"],
        [1, "plain", 256, 0.5, "true"],
        [2, '=HYPERLINK("http://evil.example/","x")', -3, 1e-9, "<b>&amp;</b> \"q\" 'a'"],
        [3, "  spaces kept  ", 0, 2.25, "tab\tand\nnewline"],
        [4, "東京 Ärzte ✓ 🔑", 10**12, 3.0, "bell\x07 and _x0041_ literally"],
    ]
    with xlsxstream.StreamingSheet(path, "keys") as sheet:
        for row in rows:
            sheet.append(row)
    for read_only in (False, True):
        assert [list(row) for row in read(path, read_only=read_only).iter_rows(values_only=True)][:4] == rows[:4]
    last = next(read(path).iter_rows(min_row=5, values_only=True))
    assert last[:4] == (4, "東京 Ärzte ✓ 🔑", 10**12, 3.0)
    # openpyxl reads the format's _xHHHH_ escapes as they are written; Excel decodes them to the control character
    # and to the literal "_x0041_".
    assert last[4] == "bell_x0007_ and _x005F_x0041_ literally"


def test_formula_like_text_is_a_text_cell_never_a_formula(tmp_path):
    path = tmp_path / "k.xlsx"
    with xlsxstream.StreamingSheet(path, "keys") as sheet:
        sheet.append(["name"])
        sheet.append(["=1+1"])
    cell = read(path)["A2"]
    assert cell.value == "=1+1" and cell.data_type == "s"


def test_empty_values_are_empty_cells(tmp_path):
    path = tmp_path / "k.xlsx"
    with xlsxstream.StreamingSheet(path, "keys") as sheet:
        sheet.append(["a", "b", "c"])
        sheet.append([None, "", "x"])
    assert list(read(path).iter_rows(min_row=2, values_only=True)) == [(None, None, "x")]


def test_a_sheet_stops_at_the_format_s_row_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(xlsxstream, "MAX_ROWS", 3)
    path = tmp_path / "k.xlsx"
    with xlsxstream.StreamingSheet(path, "keys") as sheet:
        for number in range(3):
            sheet.append([number])
        with pytest.raises(OverflowError, match="at most 3 rows"):
            sheet.append([4])
    assert read(path).max_row == 3


def test_an_error_while_writing_leaves_no_file(tmp_path):
    path = tmp_path / "k.xlsx"
    with pytest.raises(RuntimeError), xlsxstream.StreamingSheet(path, "keys") as sheet:
        sheet.append(["a"])
        raise RuntimeError("stopped")
    assert not path.exists()

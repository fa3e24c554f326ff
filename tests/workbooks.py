"""What a user does to the downloaded template: type rows under its example row."""

import io

import openpyxl

from services.exporter import IKM_LAYOUT

# field name -> the template's bilingual header of the IKM sheet
IKM_HEADERS = dict(zip((c.name for c in IKM_LAYOUT.columns), IKM_LAYOUT.headers, strict=True))


def type_under_example(template: bytes, rows: list[dict], *, sheet: str = "IKM",
                       headers: dict[str, str] = IKM_HEADERS) -> bytes:
    """The template workbook with `rows` (field name -> value) typed from row 3 on."""
    wb = openpyxl.load_workbook(io.BytesIO(template))
    ws = wb[sheet]
    position = {cell.value: cell.column for cell in ws[1]}
    for r, row in enumerate(rows, start=3):
        for name, value in row.items():
            ws.cell(row=r, column=position[headers[name]], value=value)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()

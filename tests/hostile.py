"""Hostile uploads built at test time: sparse workbooks whose grid would need gigabytes, zip
bombs that lie about their sizes, and cells without references that slip past a pre-scan."""

import io
import struct
import zipfile
import zlib

import openpyxl

IKM_HEADERS = ["NIB", "Nama usaha", "Kabupaten", "Kecamatan"]


def sparse_workbook(far_cell: str) -> bytes:
    """A tiny IKM sheet with one more cell far away (A1 + XFD1048576 is 17 billion cells)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "IKM"
    ws.append(IKM_HEADERS)
    ws.append(["3529090000001", "Keripik Ani", "Sumenep", "Guluk-Guluk"])
    ws[far_cell] = "x"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _with_member(base: bytes, name: str, content: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr(zipfile.ZipInfo(name), content, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def zip_bomb(actual_mb: int = 400, declared: int | None = 1000) -> bytes:
    """A valid IKM workbook plus a member of `actual_mb` MB of zeros (about 1/1000 of that
    compressed). With `declared`, its local and central headers claim only that many bytes
    once unpacked, so a size check that trusts the zip lets it through."""
    base = sparse_workbook("B3")
    chunk = b"\0" * (1 << 20)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    compressed = b"".join(packer.compress(chunk) for _ in range(actual_mb)) + packer.flush()
    crc = 0
    for _ in range(actual_mb):
        crc = zlib.crc32(chunk, crc)
    name = b"xl/media/image1.bin"
    size = actual_mb << 20 if declared is None else declared
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(compressed),
                        size, len(name), 0) + name
    with zipfile.ZipFile(io.BytesIO(base)) as src:
        members = [(i, src.read(i)) for i in src.infolist()]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info, content in members:
            dst.writestr(info, content)
    data = out.getvalue()
    # splice the crafted member in before the central directory, and add its entry
    end = data.rindex(b"PK\x05\x06")
    count, cd_size, cd_offset = struct.unpack("<HII", data[end + 10:end + 20])
    offset = cd_offset
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc,
                          len(compressed), size, len(name), 0, 0, 0, 0, 0, offset) + name
    directory = data[cd_offset:cd_offset + cd_size] + central
    new_offset = offset + len(local) + len(compressed)
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count + 1, count + 1, len(directory),
                       new_offset, 0)
    return data[:cd_offset] + local + compressed + directory + eocd


def wide_rows_without_references(width: int = 16_384, last_row: int = 20_000) -> bytes:
    """An IKM sheet whose first row has `width` cells without references (their places are
    implicit, so no reference names a far column) and one cell in row `last_row`: a reader
    that builds the whole grid needs width × last_row cells (gigabytes)."""
    base = sparse_workbook("B3")
    cells = "".join(f"<c t=\"inlineStr\"><is><t>h{i}</t></is></c>" for i in range(width))
    xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
           '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           f'<sheetData><row r="1">{cells}</row>'
           f'<row r="{last_row}"><c t="inlineStr"><is><t>x</t></is></c></row></sheetData>'
           "</worksheet>").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as src, zipfile.ZipFile(out, "w",
                                                                     zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = xml if info.filename == "xl/worksheets/sheet1.xml" else src.read(info)
            dst.writestr(info.filename, content)
    return out.getvalue()

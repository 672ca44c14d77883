# ruff: noqa: E501 (the OOXML namespaces are long)
"""Small xlsx files written directly as XML: fast, with whatever lies a hostile file tells."""

import io
import zipfile

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    "</Relationships>"
)
SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)


def column_letters(index: int) -> str:
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def sheet_xml(
    rows: int,
    columns: int = 5,
    *,
    dimension: str | None = "auto",
    extra: str = "",
    references: bool = True,
) -> bytes:
    """A sheet of inline-string cells; ``dimension`` 'auto', None (absent) or a ref to lie with."""
    parts = [SHEET_HEAD]
    if dimension == "auto":
        dimension = f"A1:{column_letters(columns)}{rows}"
    if dimension:
        parts.append(f'<dimension ref="{dimension}"/>')
    parts.append("<sheetData>")
    letters = [column_letters(index) for index in range(1, columns + 1)]
    for row in range(1, rows + 1):
        if references:
            cells = "".join(
                f'<c r="{letter}{row}" t="inlineStr"><is><t>v{row}</t></is></c>'
                for letter in letters
            )
            parts.append(f'<row r="{row}">{cells}</row>')
        else:
            cells = '<c t="inlineStr"><is><t>v</t></is></c>' * columns
            parts.append(f"<row>{cells}</row>")
    parts.append("</sheetData>")
    parts.append(extra)
    parts.append("</worksheet>")
    return "".join(parts).encode()


def xlsx_bytes(sheet: bytes, *, extra_members: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        for member, data in (extra_members or {}).items():
            archive.writestr(member, data)
    return buffer.getvalue()


def zeros_bomb(path, unpacked_bytes: int, *, member: str = "xl/worksheets/sheet1.xml") -> bytes:
    """Write an xlsx whose sheet is ``unpacked_bytes`` of zeros, streaming; return its bytes."""
    chunk = b"\0" * (1024 * 1024)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        with archive.open(member, "w", force_zip64=True) as stream:
            written = 0
            while written < unpacked_bytes:
                part = chunk[: min(len(chunk), unpacked_bytes - written)]
                stream.write(part)
                written += len(part)
    return path.read_bytes()

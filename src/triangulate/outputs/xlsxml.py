"""A small SpreadsheetML (.xlsx) writer: typed cells, shared strings, a few cell formats, column
widths, row heights, a frozen header, print settings, autofilter and document properties.

Written for ``convergence_matrix.xlsx``: it builds every part as a list of strings joined once
(XlsxWriter spends ~20 µs a cell in Python; this spends ~1 µs) and stores it in a zip with fixed
timestamps, so the same workbook gives the same bytes on every run. Parts and the elements inside
them follow the ECMA-376 schema order. Strings are always shared-string cells (never formulas);
numbers are numbers; ``None`` is a blank cell that keeps its format.

Excel's limits are kept: a string longer than 32,767 UTF-16 code units is cut there (never inside
a surrogate pair), and rows past 1,048,576 are left out.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from triangulate.outputs.opc import CT as _CT
from triangulate.outputs.opc import PKG_REL as _NS_PKG_REL
from triangulate.outputs.opc import REL as _REL
from triangulate.outputs.opc import XML_DECL as _XML
from triangulate.outputs.opc import XML_ILLEGAL as _XML_ILLEGAL
from triangulate.outputs.opc import (
    content_types,
    core_properties,
    escape_text,
    root_rels,
    write_package,
)
from triangulate.outputs.opc import markup as _markup

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

MAX_ROWS = 1_048_576
MAX_STRING = 32_767  # UTF-16 code units

_NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_ESCAPED_LITERAL = re.compile(r"_(x[0-9A-Fa-f]{4}_)")  # Excel would read it as an escape
_SEPARATOR = "\x00"  # between the texts of a batch: XML cannot hold it, so no text has it


def escape_attr(text: str) -> str:
    """Text for a double-quoted attribute value."""
    text = escape_text(text)
    for raw, ref in (('"', "&quot;"), ("\n", "&#10;"), ("\t", "&#9;")):
        if raw in text:
            text = text.replace(raw, ref)
    return text


def _shared_string(text: str) -> str:
    """One ``<si>`` element; a literal ``_xHHHH_`` gets its underscore escaped, as Excel does."""
    if _XML_ILLEGAL.search(text):
        text = _XML_ILLEGAL.sub(" ", text)
    if "_x" in text:
        text = _ESCAPED_LITERAL.sub(r"_x005F_\1", text)
    body = _markup(text)
    if text[:1].isspace() or text[-1:].isspace():
        return f'<si><t xml:space="preserve">{body}</t></si>'
    return f"<si><t>{body}</t></si>"


def _shared_strings(texts: list[str]) -> list[str]:
    """The ``<si>`` elements of ``texts``, escaped as one batch when none needs cleaning."""
    joined = _SEPARATOR.join(texts)
    if joined.count(_SEPARATOR) != len(texts) - 1 or _XML_ILLEGAL.search(
        joined.replace(_SEPARATOR, "")
    ):
        return [_shared_string(t) for t in texts]  # a text to clean: one at a time
    if "_x" in joined:
        joined = _ESCAPED_LITERAL.sub(r"_x005F_\1", joined)
    bodies = _markup(joined).split(_SEPARATOR)
    return [
        f'<si><t xml:space="preserve">{body}</t></si>'
        if text[:1].isspace() or text[-1:].isspace()
        else f"<si><t>{body}</t></si>"
        for text, body in zip(texts, bodies)
    ]


def clip_string(text: str) -> str:
    """``text`` cut to Excel's 32,767 UTF-16 code units, never inside a surrogate pair."""
    if len(text) <= MAX_STRING // 2:
        return text
    units = 0
    for i, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > MAX_STRING:
            return text[:i]
    return text


def column_letter(index: int) -> str:
    """``0`` -> ``A``, ``26`` -> ``AA``."""
    name = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        name = chr(65 + rem) + name
    return name


def _number(value: float) -> str:
    if isinstance(value, int):
        return str(int(value))  # a bool as 1 or 0
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _points(height: float) -> str:
    """A row height in points, rounded to whole pixels (3/4 pt) as a spreadsheet stores it."""
    return f"{int(height * 4.0 / 3.0 + 0.5) * 0.75:g}"


def _width(chars: float) -> str:
    """A column width in characters of the default font (7 px digits, 5 px padding)."""
    pixels = int(chars * 7 + 0.5) + 5 if chars >= 1 else int(chars * 12 + 0.5)
    return repr(int(pixels / 7 * 256) / 256)  # a multiple of 1/256: exact in a few digits


@dataclass(frozen=True)
class Format:
    """A cell format. Colours are ``#RRGGBB``; ``num_format`` is an Excel number format code."""

    font_name: str = "Calibri"
    font_size: float = 11
    bold: bool = False
    font_colour: str | None = None
    fill: str | None = None
    border_colour: str | None = None  # thin borders on all four sides when set
    valign: str | None = None
    wrap: bool = False
    num_format: str | None = None


def _argb(colour: str) -> str:
    return "FF" + colour.lstrip("#").upper()


def quote_sheet(name: str) -> str:
    """A sheet name as a formula reference needs it."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", name):
        return name
    return "'" + name.replace("'", "''") + "'"


class Sheet:
    def __init__(self, book: Workbook, name: str, widths: Sequence[float]) -> None:
        self.book = book
        self.name = name
        self.widths = list(widths)
        self.ncols = len(widths)
        self.letters = [column_letter(i) for i in range(self.ncols)]
        self.opens = [f'<c r="{c}' for c in self.letters]  # each column's cell, up to its row
        self.parts: list[str] = []
        self.nrows = 0
        self.print_titles = False
        self.filter = False
        self.landscape = False
        self.paper: int | None = None
        self.fit_width = False
        self.margins = (0.7, 0.7, 0.75, 0.75)
        self.frozen_rows = 0

    def add_row(
        self, values: Sequence[Any], styles: Sequence[int], height: float | None = None
    ) -> bool:
        """Append a row: ``str`` -> shared string, ``int``/``float`` -> number, ``None`` -> blank
        (a non-finite number is left blank too). False when the sheet is full (the row is left out).
        """
        if self.nrows >= MAX_ROWS:
            return False
        self.nrows += 1
        r = self.nrows
        parts: list[str] = []  # the row's pieces, kept as one string (a string a cell cost 2x)
        if height is None:
            parts.append(f'<row r="{r}">')
        else:
            parts.append(f'<row r="{r}" ht="{_points(height)}" customHeight="1">')
        book = self.book
        get = book.strings.get
        text_cell, blank_cell, number_cell = book.cell_attrs
        rs = str(r)
        add = parts.append
        others = 0  # cells that are not strings
        for col, v, s in zip(self.opens, values, styles):
            if type(v) is str:
                i = get(v)
                if i is None:
                    i = self._new_string(v)
                add(f"{col}{rs}{text_cell[s]}{i}</v></c>")
            elif isinstance(v, str):  # a str subclass: stored as a plain str
                i = get(v)
                if i is None:
                    i = self._new_string(str(v))
                add(f"{col}{rs}{text_cell[s]}{i}</v></c>")
            elif v is None or (isinstance(v, float) and not math.isfinite(v)):
                others += 1
                add(f"{col}{rs}{blank_cell[s]}")
            else:
                others += 1
                add(f"{col}{rs}{number_cell[s]}{_number(v)}</v></c>")
        add("</row>")
        self.parts.append("".join(parts))
        book.string_count += min(len(values), self.ncols) - others
        return True

    def _new_string(self, text: str) -> str:
        """The shared-string index (as text) of a text not seen before, cut to Excel's limit."""
        book = self.book
        clipped = clip_string(text)
        i = book.strings.get(clipped)
        if i is None:
            i = str(len(book.string_list))
            book.string_list.append(clipped)
            book.strings[clipped] = i
        book.strings[text] = i
        return i

    def ref(self, absolute: bool = False) -> str:
        last = self.letters[-1] + str(max(self.nrows, 1))
        if absolute:
            return f"$A$1:${self.letters[-1]}${max(self.nrows, 1)}"
        return f"A1:{last}"

    def xml(self, index: int) -> str:
        out = [
            _XML,
            f'<worksheet xmlns="{_NS_MAIN}" xmlns:r="{_NS_R}">',
        ]
        if self.fit_width:
            out.append('<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>')
        out.append(f'<dimension ref="{self.ref()}"/>')
        selected = ' tabSelected="1"' if index == 0 else ""
        if self.frozen_rows:
            top = f"A{self.frozen_rows + 1}"
            out.append(
                f'<sheetViews><sheetView{selected} workbookViewId="0">'
                f'<pane ySplit="{self.frozen_rows}" topLeftCell="{top}" activePane="bottomLeft"'
                ' state="frozen"/><selection pane="bottomLeft"/></sheetView></sheetViews>'
            )
        else:
            out.append(f'<sheetViews><sheetView{selected} workbookViewId="0"/></sheetViews>')
        out.append('<sheetFormatPr defaultRowHeight="15"/>')
        if self.widths:
            out.append("<cols>")
            out += [
                f'<col min="{i}" max="{i}" width="{_width(w)}" customWidth="1"/>'
                for i, w in enumerate(self.widths, start=1)
            ]
            out.append("</cols>")
        out.append("<sheetData>")
        out += self.parts
        out.append("</sheetData>")
        if self.filter and self.nrows > 1:
            out.append(f'<autoFilter ref="{self.ref()}"/>')
        left, right, top_m, bottom = self.margins
        out.append(
            f'<pageMargins left="{left:g}" right="{right:g}" top="{top_m:g}" bottom="{bottom:g}"'
            ' header="0.3" footer="0.3"/>'
        )
        setup = []
        if self.paper is not None:
            setup.append(f'paperSize="{self.paper}"')
        if self.fit_width:
            setup.append('fitToHeight="0"')
        if self.landscape:
            setup.append('orientation="landscape"')
        if setup:
            out.append(f"<pageSetup {' '.join(setup)}/>")
        out.append("</worksheet>")
        return "".join(out)


class Workbook:
    """Sheets, formats and shared strings; :meth:`save` gives the .xlsx bytes."""

    def __init__(
        self, *, title: str = "", author: str = "", comments: str = "", created: datetime
    ) -> None:
        self.title = title
        self.author = author
        self.comments = comments
        self.created = created
        self.sheets: list[Sheet] = []
        self.formats: list[Format] = [Format()]  # xf 0: the default
        self.strings: dict[str, str] = {}  # text -> its index in string_list, as text
        self.string_list: list[str] = []
        # each format's cell markup after the reference: text (up to the index), blank, number
        self.cell_attrs: tuple[list[str], list[str], list[str]] = ([], [], [])
        self._add_cell_attrs(0)
        self.string_count = 0

    def add_format(self, fmt: Format) -> int:
        """The cell format's index (the ``s`` of a cell)."""
        if fmt in self.formats:
            return self.formats.index(fmt)
        self.formats.append(fmt)
        self._add_cell_attrs(len(self.formats) - 1)
        return len(self.formats) - 1

    def _add_cell_attrs(self, s: int) -> None:
        text, blank, number = self.cell_attrs
        text.append(f'" s="{s}" t="s"><v>')
        blank.append(f'" s="{s}"/>')
        number.append(f'" s="{s}"><v>')

    def add_sheet(self, name: str, widths: Sequence[float]) -> Sheet:
        sheet = Sheet(self, name, widths)
        self.sheets.append(sheet)
        return sheet

    # ------------------------------------------------------------------ parts

    def _styles(self) -> str:
        fonts: list[str] = ['<font><sz val="11"/><name val="Calibri"/><family val="2"/></font>']
        fills = ['<fill><patternFill patternType="none"/></fill>']
        fills.append('<fill><patternFill patternType="gray125"/></fill>')
        borders = ["<border><left/><right/><top/><bottom/><diagonal/></border>"]
        numfmts: list[str] = []
        xfs = ['<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>']

        def index(items: list[str], item: str) -> int:
            if item not in items:
                items.append(item)
            return items.index(item)

        for f in self.formats[1:]:
            colour = f'<color rgb="{_argb(f.font_colour)}"/>' if f.font_colour else ""
            font = (
                f'<font>{"<b/>" if f.bold else ""}<sz val="{f.font_size:g}"/>{colour}'
                f'<name val="{escape_attr(f.font_name)}"/><family val="2"/></font>'
            )
            font_id = index(fonts, font)
            fill_id = 0
            if f.fill:
                fill_id = index(
                    fills,
                    f'<fill><patternFill patternType="solid"><fgColor rgb="{_argb(f.fill)}"/>'
                    '<bgColor indexed="64"/></patternFill></fill>',
                )
            border_id = 0
            if f.border_colour:
                c = f'<color rgb="{_argb(f.border_colour)}"/>'
                sides = "".join(f'<{s} style="thin">{c}</{s}>' for s in ("left", "right", "top"))
                border_id = index(
                    borders, f'<border>{sides}<bottom style="thin">{c}</bottom><diagonal/></border>'
                )
            num_id = 0
            if f.num_format:
                code = f'formatCode="{escape_attr(f.num_format)}"/>'
                known = [n for n in numfmts if n.endswith(code)]
                if known:
                    num_id = int(known[0].split('"')[1])
                else:
                    num_id = 164 + len(numfmts)
                    numfmts.append(f'<numFmt numFmtId="{num_id}" {code}')
            attrs = (
                f'numFmtId="{num_id}" fontId="{font_id}" fillId="{fill_id}"'
                f' borderId="{border_id}" xfId="0"'
            )
            applied = [
                ("applyNumberFormat", num_id),
                ("applyFont", font_id),
                ("applyFill", fill_id),
            ]
            applied.append(("applyBorder", border_id))
            attrs += "".join(f' {name}="1"' for name, used in applied if used)
            align = ""
            if f.valign or f.wrap:
                attrs += ' applyAlignment="1"'
                v = f' vertical="{f.valign}"' if f.valign else ""
                w = ' wrapText="1"' if f.wrap else ""
                align = f"<alignment{v}{w}/>"
            xfs.append(f"<xf {attrs}>{align}</xf>" if align else f"<xf {attrs}/>")

        out = [_XML, f'<styleSheet xmlns="{_NS_MAIN}">']
        if numfmts:
            out.append(f'<numFmts count="{len(numfmts)}">{"".join(numfmts)}</numFmts>')
        out.append(f'<fonts count="{len(fonts)}">{"".join(fonts)}</fonts>')
        out.append(f'<fills count="{len(fills)}">{"".join(fills)}</fills>')
        out.append(f'<borders count="{len(borders)}">{"".join(borders)}</borders>')
        out.append(
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
            "</cellStyleXfs>"
        )
        out.append(f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>')
        out.append('<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>')
        out.append("</cellStyles></styleSheet>")
        return "".join(out)

    def _shared_strings(self) -> str:
        out = [
            _XML,
            f'<sst xmlns="{_NS_MAIN}" count="{self.string_count}"'
            f' uniqueCount="{len(self.string_list)}">',
        ]
        out += _shared_strings(self.string_list)
        out.append("</sst>")
        return "".join(out)

    def _workbook(self) -> str:
        out = [_XML, f'<workbook xmlns="{_NS_MAIN}" xmlns:r="{_NS_R}">']
        out.append("<workbookPr/>")
        out.append('<bookViews><workbookView xWindow="240" yWindow="15" windowWidth="16095"')
        out.append(' windowHeight="9660"/></bookViews><sheets>')
        out += [
            f'<sheet name="{escape_attr(s.name)}" sheetId="{i}" r:id="rId{i}"/>'
            for i, s in enumerate(self.sheets, start=1)
        ]
        out.append("</sheets>")
        names: list[tuple[str, str, int, str]] = []  # (name, sheet, local id, reference)
        for i, s in enumerate(self.sheets):
            q = escape_text(quote_sheet(s.name))
            if s.filter and s.nrows > 1:
                names.append(("_xlnm._FilterDatabase", s.name, i, f"{q}!{s.ref(True)}"))
            names.append(("_xlnm.Print_Area", s.name, i, f"{q}!{s.ref(True)}"))
            if s.print_titles:
                names.append(("_xlnm.Print_Titles", s.name, i, f"{q}!$1:$1"))
        if names:
            out.append("<definedNames>")
            for name, _sheet, i, ref in sorted(names, key=lambda n: (n[0].lower(), n[1].lower())):
                hidden = ' hidden="1"' if name == "_xlnm._FilterDatabase" else ""
                out.append(
                    f'<definedName name="{name}" localSheetId="{i}"{hidden}>{ref}</definedName>'
                )
            out.append("</definedNames>")
        out.append('<calcPr calcId="124519"/></workbook>')
        return "".join(out)

    def _workbook_rels(self) -> str:
        out = [_XML, f'<Relationships xmlns="{_NS_PKG_REL}">']
        n = len(self.sheets)
        out += [
            f'<Relationship Id="rId{i}" Type="{_REL}worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, n + 1)
        ]
        out.append(f'<Relationship Id="rId{n + 1}" Type="{_REL}styles" Target="styles.xml"/>')
        out.append(
            f'<Relationship Id="rId{n + 2}" Type="{_REL}sharedStrings"'
            ' Target="sharedStrings.xml"/></Relationships>'
        )
        return "".join(out)

    def _content_types(self) -> str:
        return content_types(
            [
                ("/docProps/app.xml", f"{_CT}extended-properties+xml"),
                (
                    "/docProps/core.xml",
                    "application/vnd.openxmlformats-package.core-properties+xml",
                ),
                ("/xl/workbook.xml", f"{_CT}spreadsheetml.sheet.main+xml"),
                ("/xl/styles.xml", f"{_CT}spreadsheetml.styles+xml"),
                ("/xl/sharedStrings.xml", f"{_CT}spreadsheetml.sharedStrings+xml"),
                *(
                    (f"/xl/worksheets/sheet{i}.xml", f"{_CT}spreadsheetml.worksheet+xml")
                    for i in range(1, len(self.sheets) + 1)
                ),
            ]
        )

    def _core(self) -> str:
        return core_properties(self.title, self.author, self.comments, self.created)

    def _app(self) -> str:
        vt = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
        n = len(self.sheets)
        titles = "".join(f"<vt:lpstr>{escape_text(s.name)}</vt:lpstr>" for s in self.sheets)
        return (
            f"{_XML}<Properties xmlns="
            '"http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"'
            f' xmlns:vt="{vt}"><Application>{escape_text(self.author)}</Application>'
            "<DocSecurity>0</DocSecurity><ScaleCrop>false</ScaleCrop>"
            '<HeadingPairs><vt:vector size="2" baseType="variant">'
            f"<vt:variant><vt:lpstr>Worksheets</vt:lpstr></vt:variant><vt:variant><vt:i4>{n}"
            "</vt:i4></vt:variant></vt:vector></HeadingPairs>"
            f'<TitlesOfParts><vt:vector size="{n}" baseType="lpstr">{titles}</vt:vector>'
            "</TitlesOfParts><LinksUpToDate>false</LinksUpToDate><SharedDoc>false</SharedDoc>"
            "<HyperlinksChanged>false</HyperlinksChanged></Properties>"
        )

    def save(self) -> bytes:
        """The workbook as .xlsx bytes: the same input gives the same bytes."""
        parts = [
            ("[Content_Types].xml", self._content_types()),
            ("_rels/.rels", root_rels("xl/workbook.xml")),
            ("docProps/app.xml", self._app()),
            ("docProps/core.xml", self._core()),
            ("xl/workbook.xml", self._workbook()),
            ("xl/_rels/workbook.xml.rels", self._workbook_rels()),
            ("xl/styles.xml", self._styles()),
            ("xl/sharedStrings.xml", self._shared_strings()),
        ]
        parts += [
            (f"xl/worksheets/sheet{i}.xml", s.xml(i - 1)) for i, s in enumerate(self.sheets, 1)
        ]
        return write_package(parts)

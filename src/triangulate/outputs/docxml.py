"""A small WordprocessingML (.docx) writer: paragraphs (plain, bold, a font, a size, a heading
style), ready-made table XML, sections in portrait or landscape, and document properties.

Written for ``report.docx``: every part is built as text and stored in a zip with fixed entry
times, so the same document gives the same bytes on every run (python-docx took ~0.1 s to import
with lxml before writing a word). The package holds only the parts Word and LibreOffice need:
content types, relationships, core and app properties, the document, its styles and its
settings. The styles part defines every style id the document uses (``Normal``, ``Heading1``,
``Heading2``, ``TableGrid``) and the defaults, so no theme is needed: fonts are named outright.

Sections follow WordprocessingML: a section's properties (``w:sectPr``) live in the last
paragraph of the section, and the last section's are the body's last child. The page is US
Letter with the margins of python-docx's default template (1 inch top and bottom, 1.25 inch
left and right), which earlier versions of ``report.docx`` used.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from triangulate.outputs.opc import CT as _CT
from triangulate.outputs.opc import PKG_REL as _PKG_REL
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

PAGE_SHORT = 12240  # US Letter, twips (8.5 in)
PAGE_LONG = 15840  # 11 in
MARGIN_TB = 1440
MARGIN_LR = 1800
HEADER_FOOTER = 720
HEADING_FONT = "Cambria"

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_WORD_URI = "http://schemas.microsoft.com/office/word"


def xml_text(text: str) -> str:
    """Text a Word document can hold: characters XML 1.0 forbids (control characters from the
    data, lone surrogates, U+FFFE/U+FFFF) become a space instead of stopping the whole run."""
    return _XML_ILLEGAL.sub(" ", text) if _XML_ILLEGAL.search(text) else text


def fonts(name: str) -> str:
    """``w:rFonts`` naming one font for every script."""
    return f'<w:rFonts w:ascii="{name}" w:hAnsi="{name}" w:eastAsia="{name}" w:cs="{name}"/>'


def run_props(bold: bool = False, font: str = "", size: float | None = None) -> str:
    """A run's ``w:rPr`` (empty string when it sets nothing), children in schema order."""
    props = fonts(font) if font else ""
    if bold:
        props += "<w:b/><w:bCs/>"
    if size is not None:
        half = round(size * 2)
        props += f'<w:sz w:val="{half}"/><w:szCs w:val="{half}"/>'
    return f"<w:rPr>{props}</w:rPr>" if props else ""


def runs(text: str, rpr: str = "") -> str:
    """One run holding ``text``: a tab becomes ``w:tab``, a line break (LF, CR or CRLF)
    ``w:br``; spaces are kept (``xml:space="preserve"``); the rest is XML-escaped."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\n" not in text and "\t" not in text:
        return f'<w:r>{rpr}<w:t xml:space="preserve">{escape_text(text)}</w:t></w:r>'
    parts: list[str] = []
    for i, line in enumerate(text.split("\n")):
        if i:
            parts.append("<w:br/>")
        for j, piece in enumerate(line.split("\t")):
            if j:
                parts.append("<w:tab/>")
            if piece:
                parts.append(f'<w:t xml:space="preserve">{escape_text(piece)}</w:t>')
    return f"<w:r>{rpr}{''.join(parts)}</w:r>"


def _section_props(landscape: bool) -> str:
    if landscape:
        size = f'<w:pgSz w:w="{PAGE_LONG}" w:h="{PAGE_SHORT}" w:orient="landscape"/>'
    else:
        size = f'<w:pgSz w:w="{PAGE_SHORT}" w:h="{PAGE_LONG}"/>'
    return (
        f'<w:sectPr><w:type w:val="nextPage"/>{size}<w:pgMar w:top="{MARGIN_TB}" '
        f'w:right="{MARGIN_LR}" w:bottom="{MARGIN_TB}" w:left="{MARGIN_LR}" '
        f'w:header="{HEADER_FOOTER}" w:footer="{HEADER_FOOTER}" w:gutter="0"/>'
        '<w:cols w:space="720"/><w:docGrid w:linePitch="360"/></w:sectPr>'
    )


def _paragraph(ppr: str, content: str) -> str:
    return f"<w:p><w:pPr>{ppr}</w:pPr>{content}</w:p>" if ppr else f"<w:p>{content}</w:p>"


class DocxWriter:
    """A document built in order: paragraphs and tables go into the current section;
    ``new_section`` ends it and starts the next on a new page."""

    def __init__(self, font: str = "Arial", size: float = 10.0) -> None:
        self.font = font
        self.size = size
        self.title = ""
        self.author = ""
        self.comments = ""
        self.created = datetime(2000, 1, 1)
        self.landscape = False
        self._body: list[str | Iterable[str]] = []
        self._last: tuple[int, str, str] | None = None  # the last paragraph: index, pPr, content

    @property
    def usable_width(self) -> int:
        """The current section's text width between the margins, in twips."""
        return (PAGE_LONG if self.landscape else PAGE_SHORT) - 2 * MARGIN_LR

    def paragraph(
        self,
        text: str = "",
        *,
        style: str = "",
        bold: bool = False,
        font: str = "",
        size: float | None = None,
    ) -> None:
        """A paragraph of one run (none when ``text`` is empty) in the paragraph style id
        ``style`` (Normal when empty)."""
        ppr = f'<w:pStyle w:val="{style}"/>' if style else ""
        content = runs(xml_text(text), run_props(bold, font, size)) if text else ""
        self._last = (len(self._body), ppr, content)
        self._body.append(_paragraph(ppr, content))

    def heading(self, text: str, level: int) -> None:
        self.paragraph(text, style=f"Heading{level}")

    def raw(self, xml: str | Iterable[str]) -> None:
        """Block-level WordprocessingML made elsewhere (a ``w:tbl``), put in as it is (an
        iterable: its pieces in order, taken only when the document is saved)."""
        self._last = None
        self._body.append(xml)

    def new_section(self, landscape: bool = False) -> None:
        """End the current section (its properties go into its last paragraph, or an empty
        paragraph after a table) and start a new one on a new page."""
        sect = _section_props(self.landscape)
        if self._last is not None and self._last[0] == len(self._body) - 1:
            index, ppr, content = self._last
            self._body[index] = _paragraph(ppr + sect, content)
        else:
            self._body.append(_paragraph(sect, ""))
        self._last = None
        self.landscape = landscape

    def _document(self) -> Iterator[str]:
        """document.xml in pieces, written to the archive one batch at a time (never joined); a
        table given to :meth:`raw` as a generator is made only then, a batch of rows at a time."""
        yield f'{_XML}<w:document xmlns:w="{W_NS}" xmlns:r="{_R_NS}"><w:body>'
        for item in self._body:
            if isinstance(item, str):
                yield item
            else:
                yield from item
        yield _section_props(self.landscape) + "</w:body></w:document>"

    def _styles(self) -> str:
        base = fonts(self.font)
        half = round(self.size * 2)
        indent = '<w:tblInd w:w="0" w:type="dxa"/>'
        cell_margins = (
            '<w:tblCellMar><w:top w:w="0" w:type="dxa"/><w:left w:w="108" w:type="dxa"/>'
            '<w:bottom w:w="0" w:type="dxa"/><w:right w:w="108" w:type="dxa"/></w:tblCellMar>'
        )
        border = 'w:val="single" w:sz="4" w:space="0" w:color="auto"'
        borders = "".join(
            f"<w:{side} {border}/>"
            for side in ("top", "left", "bottom", "right", "insideH", "insideV")
        )

        def heading(level: int, before: int, colour: str, size: int) -> str:
            return (
                f'<w:style w:type="paragraph" w:styleId="Heading{level}">'
                f'<w:name w:val="heading {level}"/><w:basedOn w:val="Normal"/>'
                f'<w:next w:val="Normal"/><w:uiPriority w:val="9"/><w:qFormat/>'
                f'<w:pPr><w:keepNext/><w:keepLines/><w:spacing w:before="{before}" w:after="0"/>'
                f'<w:outlineLvl w:val="{level - 1}"/></w:pPr><w:rPr>{fonts(HEADING_FONT)}'
                f'<w:b/><w:bCs/><w:color w:val="{colour}"/><w:sz w:val="{size}"/>'
                f'<w:szCs w:val="{size}"/></w:rPr></w:style>'
            )

        return (
            f'{_XML}<w:styles xmlns:w="{W_NS}"><w:docDefaults><w:rPrDefault><w:rPr>{base}'
            f'<w:sz w:val="{half}"/><w:szCs w:val="{half}"/>'
            '<w:lang w:val="en-US" w:eastAsia="en-US" w:bidi="ar-SA"/></w:rPr></w:rPrDefault>'
            '<w:pPrDefault><w:pPr><w:spacing w:after="200" w:line="276" w:lineRule="auto"/>'
            "</w:pPr></w:pPrDefault></w:docDefaults>"
            '<w:style w:type="paragraph" w:default="1" w:styleId="Normal">'
            f'<w:name w:val="Normal"/><w:qFormat/><w:rPr>{base}<w:sz w:val="{half}"/>'
            f'<w:szCs w:val="{half}"/></w:rPr></w:style>'
            + heading(1, 480, "365F91", 28)
            + heading(2, 200, "4F81BD", 26)
            + '<w:style w:type="character" w:default="1" w:styleId="DefaultParagraphFont">'
            '<w:name w:val="Default Paragraph Font"/><w:uiPriority w:val="1"/><w:semiHidden/>'
            "<w:unhideWhenUsed/></w:style>"
            '<w:style w:type="table" w:default="1" w:styleId="TableNormal">'
            '<w:name w:val="Normal Table"/><w:uiPriority w:val="99"/><w:semiHidden/>'
            f"<w:unhideWhenUsed/><w:tblPr>{indent}{cell_margins}</w:tblPr></w:style>"
            '<w:style w:type="table" w:styleId="TableGrid"><w:name w:val="Table Grid"/>'
            '<w:basedOn w:val="TableNormal"/><w:uiPriority w:val="59"/>'
            '<w:pPr><w:spacing w:after="0" w:line="240" w:lineRule="auto"/></w:pPr>'
            f"<w:tblPr>{indent}<w:tblBorders>{borders}</w:tblBorders>{cell_margins}</w:tblPr>"
            "</w:style></w:styles>"
        )

    @staticmethod
    def _settings() -> str:
        compat = "".join(
            f'<w:compatSetting w:name="{name}" w:uri="{_WORD_URI}" w:val="{value}"/>'
            for name, value in (
                ("compatibilityMode", "14"),
                ("overrideTableStyleFontSizeAndJustification", "1"),
                ("enableOpenTypeFeatures", "1"),
                ("doNotFlipMirrorIndents", "1"),
            )
        )
        return (
            f'{_XML}<w:settings xmlns:w="{W_NS}"><w:zoom w:percent="100"/>'
            '<w:defaultTabStop w:val="720"/><w:characterSpacingControl w:val="doNotCompress"/>'
            f'<w:compat>{compat}</w:compat><w:themeFontLang w:val="en-US"/>'
            '<w:decimalSymbol w:val="."/><w:listSeparator w:val=","/></w:settings>'
        )

    def _core(self) -> str:
        return core_properties(self.title, self.author, self.comments, self.created, revision=1)

    def _app(self) -> str:
        return (
            f"{_XML}<Properties xmlns="
            '"http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
            f"<Application>{escape_text(self.author)}</Application>"
            "<DocSecurity>0</DocSecurity><ScaleCrop>false</ScaleCrop>"
            "<LinksUpToDate>false</LinksUpToDate><SharedDoc>false</SharedDoc>"
            "<HyperlinksChanged>false</HyperlinksChanged></Properties>"
        )

    @staticmethod
    def _content_types() -> str:
        return content_types(
            (
                ("/word/document.xml", f"{_CT}wordprocessingml.document.main+xml"),
                ("/word/styles.xml", f"{_CT}wordprocessingml.styles+xml"),
                ("/word/settings.xml", f"{_CT}wordprocessingml.settings+xml"),
                (
                    "/docProps/core.xml",
                    "application/vnd.openxmlformats-package.core-properties+xml",
                ),
                ("/docProps/app.xml", f"{_CT}extended-properties+xml"),
            )
        )

    @staticmethod
    def _document_rels() -> str:
        return (
            f'{_XML}<Relationships xmlns="{_PKG_REL}">'
            f'<Relationship Id="rId1" Type="{_REL}styles" Target="styles.xml"/>'
            f'<Relationship Id="rId2" Type="{_REL}settings" Target="settings.xml"/>'
            "</Relationships>"
        )

    def save(self) -> bytes:
        """The document as .docx bytes: the same input gives the same bytes."""
        parts = (
            ("[Content_Types].xml", self._content_types()),
            ("_rels/.rels", root_rels("word/document.xml")),
            ("docProps/core.xml", self._core()),
            ("docProps/app.xml", self._app()),
            ("word/document.xml", self._document()),
            ("word/_rels/document.xml.rels", self._document_rels()),
            ("word/styles.xml", self._styles()),
            ("word/settings.xml", self._settings()),
        )
        return write_package(parts)

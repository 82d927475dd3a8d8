"""The snapshot ("skärmdump") of a removed comment in its thread, as PDF (PDF/A-style) and PNG.

Pure: takes a `ThreadSnapshot` (what the archive knows) and returns bytes. The PDF embeds its
font (a TrueType font shipped with reportlab), carries title/author/subject metadata and is not
encrypted — the PDF/A essentials; full PDF/A-2 conformance (XMP + output intent) is not claimed.
"""

from __future__ import annotations

import io
import os
import textwrap
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import reportlab
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

_FONT_DIR = os.path.join(os.path.dirname(reportlab.__file__), "fonts")
FONT_REGULAR = os.path.join(_FONT_DIR, "Vera.ttf")
FONT_BOLD = os.path.join(_FONT_DIR, "VeraBd.ttf")


@dataclass(frozen=True)
class ShownItem:
    author: str
    text: str
    at: datetime | None
    removed: bool = False  # the comment this snapshot is about
    versions: int = 1


@dataclass(frozen=True)
class ThreadSnapshot:
    registration_number: str
    platform: str
    account: str
    permalink: str | None
    post: ShownItem | None
    comments: list[ShownItem]  # the removed comment and its neighbours, in thread order
    operation: str  # "hide" | "delete"
    removed_by: str
    removed_at: datetime
    reason: str
    earlier_versions: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        verb = "Dold" if self.operation == "hide" else "Raderad"
        return f"{verb} kommentar – {self.registration_number}"

    @property
    def subject(self) -> str:
        return f"Registrering {self.registration_number}: borttagen kommentar i sin tråd"

    @property
    def keywords(self) -> list[str]:
        return ["allmän handling", "diarieföring", self.registration_number]

    def lines(self) -> list[tuple[str, str]]:
        """The snapshot as (style, text) lines, shared by the PDF and the PNG."""
        out: list[tuple[str, str]] = [("title", self.title)]
        out.append(("meta", f"Plattform: {self.platform}   Konto: {self.account}"))
        if self.permalink:
            out.append(("meta", f"Länk: {self.permalink}"))
        action = "Dold" if self.operation == "hide" else "Raderad"
        out.append(("meta", f"{action} av: {self.removed_by}   Tidpunkt: {_when(self.removed_at)}"))
        out.append(("meta", f"Skäl: {self.reason}"))
        out.append(("gap", ""))
        if self.post is not None:
            out.append(("heading", f"Inlägg av {self.post.author} · {_when(self.post.at)}"))
            out.extend(("body", line) for line in _wrap(self.post.text))
            out.append(("gap", ""))
        out.append(("heading", "Kommentarer i tråden"))
        for comment in self.comments:
            style = "removed" if comment.removed else "body"
            marker = "▶ BORTTAGEN: " if comment.removed else ""
            edited = f" (redigerad, {comment.versions} versioner)" if comment.versions > 1 else ""
            out.append((style, f"{marker}{comment.author} · {_when(comment.at)}{edited}"))
            out.extend((style, "    " + line) for line in _wrap(comment.text))
        if self.earlier_versions:
            out.append(("gap", ""))
            out.append(("heading", "Tidigare versioner av den borttagna kommentaren"))
            for number, text in enumerate(self.earlier_versions, start=1):
                out.extend(("body", f"v{number}: {line}") for line in _wrap(text))
        return out


def _when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC") if at else "okänd tid"


def _wrap(text: str, width: int = 90) -> list[str]:
    lines: list[str] = []
    for paragraph in (text or "").splitlines() or [""]:
        lines.extend(textwrap.wrap(paragraph, width) or [""])
    return lines


def _register_fonts() -> None:
    if "ArchiveSans" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("ArchiveSans", FONT_REGULAR))
        pdfmetrics.registerFont(TTFont("ArchiveSans-Bold", FONT_BOLD))


class Document(Protocol):
    """Anything rendered as a snapshot: a title, PDF metadata and (style, text) lines."""

    @property
    def title(self) -> str: ...

    @property
    def subject(self) -> str: ...

    @property
    def keywords(self) -> list[str]: ...

    def lines(self) -> list[tuple[str, str]]: ...


def render_pdf(snapshot: Document, created: datetime) -> bytes:
    _register_fonts()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
    pdf.setTitle(snapshot.title)
    pdf.setAuthor("socialops archive")
    pdf.setSubject(snapshot.subject)
    pdf.setCreator("socialops-archive")
    pdf.setKeywords(snapshot.keywords)
    pdf.setDateFormatter(lambda *_: created.strftime("D:%Y%m%d%H%M%S+00'00'"))
    width, height = A4
    y = height - 20 * mm
    for style, text in snapshot.lines():
        if y < 20 * mm:
            pdf.showPage()
            y = height - 20 * mm
        font, size = {
            "title": ("ArchiveSans-Bold", 15), "heading": ("ArchiveSans-Bold", 11),
            "removed": ("ArchiveSans-Bold", 10), "meta": ("ArchiveSans", 9),
        }.get(style, ("ArchiveSans", 10))
        if style == "removed":
            pdf.setFillColorRGB(0.7, 0.0, 0.0)
        else:
            pdf.setFillColorRGB(0, 0, 0)
        pdf.setFont(font, size)
        pdf.drawString(18 * mm, y, text.replace("▶", ">"))
        y -= (size + 5) if style != "gap" else 6
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def render_png(snapshot: Document) -> bytes:
    lines = snapshot.lines()
    regular = ImageFont.truetype(FONT_REGULAR, 15)
    bold = ImageFont.truetype(FONT_BOLD, 15)
    title = ImageFont.truetype(FONT_BOLD, 20)
    line_height = 22
    height = 40 + line_height * len(lines)
    image = Image.new("RGB", (1000, height), "white")
    draw = ImageDraw.Draw(image)
    y = 20
    for style, text in lines:
        if style == "removed":
            draw.rectangle((10, y - 2, 990, y + line_height - 4), fill=(255, 235, 235))
        font = {"title": title, "heading": bold, "removed": bold}.get(style, regular)
        colour = (160, 0, 0) if style == "removed" else (90, 90, 90) if style == "meta" else (0, 0, 0)
        draw.text((20, y), text.replace("▶", ">"), font=font, fill=colour)
        y += line_height
    buffer = io.BytesIO()
    # zlib level 3 without `optimize`: `optimize` tries every filter at level 9 and cost a third of the
    # archive's CPU under load (bench/e2e.py) for a file a few per cent smaller.
    image.save(buffer, format="PNG", compress_level=3)
    return buffer.getvalue()

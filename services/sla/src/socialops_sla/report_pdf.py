"""The monthly report as a PDF a communicator reads in two minutes (reportlab). Pure: data -> bytes.

Page 1: what matters most, in sentences, and the key figures against the month before, grouped by
Stockholm's communication goals (seeds/004_36a8872177a81555.txt: Orienterad, Förvissad, Lyssnad
till). Page 2: the last 13 months as charts (reach, interactions, followers; answers within the
24-hour promise; posts a week against "ett par gånger i veckan"; late-Friday posts) and what was
removed and why. Then the accounts (or departments), those that publish too rarely, those whose
figures could not be read, and how the figures are counted.

Swedish throughout, numbers the Swedish way (12 400; 2,1 %), missing figures shown as "–" and
explained, never as 0. The font is embedded (Bitstream Vera, shipped with reportlab), so the text
can be selected and extracted.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from datetime import datetime

import reportlab
from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, Line, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from .followup import ChannelKpis, GroupKpis
from .report import CITY, ReportData
from .swedish import MONTH_NAMES, month_name, swedish_date

_FONTS = os.path.join(os.path.dirname(reportlab.__file__), "fonts")
SANS, BOLD = "ReportSans", "ReportSans-Bold"
INK = colors.HexColor("#1d2a3a")
MUTED = colors.HexColor("#5b6675")
ACCENT = colors.HexColor("#0b5fa5")
GOOD = colors.HexColor("#2e7d32")
WARN = colors.HexColor("#b3261e")
LIGHT = colors.HexColor("#eef3f8")
PLATFORM_COLOURS = {"facebook": colors.HexColor("#1877f2"), "instagram": colors.HexColor("#c13584"),
                    "linkedin": colors.HexColor("#0a66c2"), "x": colors.HexColor("#333333")}
PLATFORM_NAMES = {"facebook": "Facebook", "instagram": "Instagram", "linkedin": "LinkedIn", "x": "X"}
POLL_STATES = {
    "no_token": "ingen token: hämtas inte", "token_expired": "token har gått ut eller återkallats",
    "rate_limited": "plattformens gräns för anrop: hämtas när den släpper", "failing": "hämtningen misslyckas just nu",
    "no_status": "har inte hämtats ännu",
}
MIN_POSTS_PER_WEEK = 2


def _fonts() -> None:
    if SANS not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(SANS, os.path.join(_FONTS, "Vera.ttf")))
        pdfmetrics.registerFont(TTFont(BOLD, os.path.join(_FONTS, "VeraBd.ttf")))


# --- numbers the Swedish way -------------------------------------------------------------------------


def number(value: float | int | None, decimals: int = 0) -> str:
    if value is None:
        return "–"
    text = f"{value:,.{decimals}f}".replace(",", " ").replace(".", ",")
    return text.replace("-", "−")


def percent(value: float | None, decimals: int = 1) -> str:
    return "–" if value is None else f"{number(100 * value, decimals)} %"


def change(now: float | None, before: float | None) -> str:
    if now is None or before is None or before == 0:
        return ""
    delta = (now - before) / abs(before)
    return f"{'+' if delta >= 0 else '−'}{number(abs(100 * delta), 0)} %"


def hours(seconds: float | None) -> str:
    return "–" if seconds is None else f"{number(seconds / 3600, 1)} h"


def of_accounts(group: GroupKpis, figure: str) -> str:
    """' (7 av 11 konton)' when not every account has the figure (the others' is missing, not 0)."""
    have = group.reporting.get(figure, group.accounts)
    return f" ({have} av {accounts(group.accounts)})" if group.accounts > 1 and have < group.accounts else ""


def accounts(n: int) -> str:
    return f"{n} konto" if n == 1 else f"{number(n)} konton"


def short_month(month: str) -> str:
    return MONTH_NAMES[int(month[5:]) - 1][:3]


# --- what matters most -------------------------------------------------------------------------------


def reach_text(group: GroupKpis) -> str | None:
    parts = []
    for platform, reach in group.reach_by_platform.items():
        unit = "under månaden" if reach.basis == "month" else "per dag i snitt"
        parts.append(f"{PLATFORM_NAMES.get(platform, platform)} {number(reach.value)} personer {unit}")
    return ("Räckvidd: " + ", ".join(parts) + ".") if parts else None


def headline(data: ReportData) -> list[str]:
    """The few sentences of "Det viktigaste" (also the e-mail's text)."""
    g, before = data.summary, data.previous
    lines: list[str] = []
    if g.needing_answer:
        lines.append(f"Lyssnad till: {percent(g.compliance, 0)} av frågorna och meddelandena fick svar inom 24 "
                     f"timmar (arbetstid); {number(g.answered)} av {number(g.needing_answer)} fick svar. "
                     f"Mediantid till svar {hours(g.median_response_working_seconds)} arbetstid.")
    else:
        lines.append("Lyssnad till: inga frågor eller meddelanden som behövde svar den här månaden.")
    per_account = g.posts_per_week_per_account
    quiet = data.quiet()
    who = "per konto" if data.scope.kind != "account" else ""
    lines.append(f"Publicering: {number(per_account, 1)} inlägg i veckan {who} (riktlinje: minst "
                 f"{MIN_POSTS_PER_WEEK}). ".replace("  ", " ")
                 + (f"{accounts(len(quiet))} publicerar för sällan." if quiet else
                    "Inget konto publicerar för sällan." if data.scope.kind != "account" else
                    "Kontot publicerar tillräckligt ofta."))
    if g.interactions is not None:
        trend = change(g.interactions, before.interactions if before else None)
        lines.append(f"Interaktioner: {number(g.interactions)} på månadens inlägg{of_accounts(g, 'interactions')}"
                     + (f" ({trend} mot {month_name(before.month).split()[0]})" if trend and before else "")
                     + (f"; engagemangsgrad {percent(g.engagement_rate)} av följarna." if g.engagement_rate
                        is not None else "."))
    text = reach_text(g)
    if text:
        lines.append(text)
    if g.new_followers is not None or g.followers is not None:
        text = (f"Nya följare: {'+' if g.new_followers >= 0 else ''}{number(g.new_followers)}"
                f"{of_accounts(g, 'new_followers')}" if g.new_followers is not None else "Nya följare: –")
        if g.followers is not None:
            text += f"; {number(g.followers)} följare vid månadens slut{of_accounts(g, 'followers')}"
        lines.append(text + ".")
    removed = sum(g.removed.values())
    if g.comments:
        top = max(g.removed.items(), key=lambda kv: kv[1])[0] if g.removed else None
        lines.append(f"Kommentarer: {number(g.comments)} från medborgare, {number(removed)} borttagna "
                     f"({percent(g.removed_share)})" + (f", mest {top}." if top else "."))
    if g.late_friday_posts:  # None (not observed) or 0: nothing to say
        lines.append(f"{number(g.late_friday_posts)} inlägg publicerades sent på en fredag (efter 15), då "
                     "kommentarer väntar till måndag.")
    missing = data.not_polled()
    if missing:
        names = ", ".join(f"{r.name} ({PLATFORM_NAMES.get(r.platform.value, r.platform.value)})"
                          for r, _ in missing[:4])
        lines.append(f"Siffror saknas för {accounts(len(missing))}: {names}{' …' if len(missing) > 4 else ''}.")
    return lines


# --- charts --------------------------------------------------------------------------------------------

CHART_W, CHART_H = 84 * mm, 52 * mm


def _frame(title: str, note: str | None = None) -> Drawing:
    drawing = Drawing(CHART_W, CHART_H)
    drawing.add(String(0, CHART_H - 10, title, fontName=BOLD, fontSize=9, fillColor=INK))
    if note:
        drawing.add(String(0, CHART_H - 20, note, fontName=SANS, fontSize=6.5, fillColor=MUTED))
    return drawing


def _axes(chart, labels: Sequence[str], top: float, value_format=None) -> None:
    chart.x, chart.y = 26, 16
    chart.width, chart.height = CHART_W - 34, CHART_H - 44
    chart.categoryAxis.categoryNames = list(labels)
    chart.categoryAxis.labels.fontName = SANS
    chart.categoryAxis.labels.fontSize = 6
    chart.categoryAxis.strokeColor = MUTED
    chart.valueAxis.labels.fontName = SANS
    chart.valueAxis.labels.fontSize = 6
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = top if top > 0 else 1
    chart.valueAxis.strokeColor = MUTED
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = colors.HexColor("#dde3ea")
    chart.valueAxis.labelTextFormat = value_format or (lambda v: number(v))


def _empty(drawing: Drawing) -> Drawing:
    drawing.add(String(CHART_W / 2, CHART_H / 2 - 6, "Inga uppgifter för perioden", fontName=SANS, fontSize=8,
                       fillColor=MUTED, textAnchor="middle"))
    return drawing


def bar_chart(title: str, labels: Sequence[str], values: Sequence[float | None], *, note: str | None = None,
              reference: float | None = None, reference_label: str | None = None, colour=ACCENT,
              value_format=None) -> Drawing:
    drawing = _frame(title, note)
    present = [v for v in values if v is not None]
    if not present:
        return _empty(drawing)
    top = max([*present, reference or 0]) * 1.15
    chart = VerticalBarChart()
    _axes(chart, labels, top, value_format)
    chart.data = [list(values)]
    chart.bars[0].fillColor = colour
    chart.bars[0].strokeColor = None
    chart.barSpacing = 1
    drawing.add(chart)
    if reference is not None:
        y = chart.y + chart.height * reference / chart.valueAxis.valueMax
        drawing.add(Line(chart.x, y, chart.x + chart.width, y, strokeColor=WARN, strokeWidth=1, strokeDashArray=[3, 2]))
        if reference_label:
            drawing.add(String(chart.x + chart.width, y + 2, reference_label, fontName=SANS, fontSize=6,
                               fillColor=WARN, textAnchor="end"))
    return drawing


def line_chart(title: str, labels: Sequence[str], series: dict[str, list[float | None]], *,
               note: str | None = None) -> Drawing:
    drawing = _frame(title, note)
    shown = {name: values for name, values in series.items() if any(v is not None for v in values)}
    if not shown:
        return _empty(drawing)
    top = max(v for values in shown.values() for v in values if v is not None) * 1.15
    chart = HorizontalLineChart()
    _axes(chart, labels, top)
    chart.data = list(shown.values())
    chart.joinedLines = True
    for index, name in enumerate(shown):
        chart.lines[index].strokeColor = PLATFORM_COLOURS.get(name, ACCENT)
        chart.lines[index].strokeWidth = 1.6
    drawing.add(chart)
    x = 26
    for name in shown:  # legend under the title
        drawing.add(Line(x, CHART_H - 27, x + 8, CHART_H - 27, strokeColor=PLATFORM_COLOURS.get(name, ACCENT),
                         strokeWidth=2))
        label = PLATFORM_NAMES.get(name, name)
        drawing.add(String(x + 10, CHART_H - 29.5, label, fontName=SANS, fontSize=6.5, fillColor=INK))
        x += 16 + pdfmetrics.stringWidth(label, SANS, 6.5)
    return drawing


def reasons_chart(title: str, reasons: dict[str, int], *, note: str | None = None) -> Drawing:
    drawing = _frame(title, note)
    if not reasons:
        drawing.add(String(CHART_W / 2, CHART_H / 2 - 6, "Inga borttagna kommentarer", fontName=SANS, fontSize=8,
                           fillColor=MUTED, textAnchor="middle"))
        return drawing
    items = sorted(reasons.items(), key=lambda kv: kv[1])[-6:]
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 78, 8, CHART_W - 96, CHART_H - 40
    chart.data = [[n for _, n in items]]
    chart.categoryAxis.categoryNames = [label for label, _ in items]
    chart.categoryAxis.labels.fontName = SANS
    chart.categoryAxis.labels.fontSize = 6.5
    chart.categoryAxis.strokeColor = MUTED
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = max(n for _, n in items) * 1.2
    chart.valueAxis.labels.fontName = SANS
    chart.valueAxis.labels.fontSize = 6
    chart.valueAxis.labelTextFormat = lambda v: number(v)
    chart.bars[0].fillColor = WARN
    chart.bars[0].strokeColor = None
    chart.barLabelFormat = lambda v: number(v)
    chart.barLabels.fontName = SANS
    chart.barLabels.fontSize = 6.5
    chart.barLabels.nudge = 8
    drawing.add(chart)
    return drawing


def trend_charts(data: ReportData) -> list[Drawing]:
    months = [short_month(m) for m in data.months]
    trend = data.trend
    def reach_series(basis: str) -> dict[str, list[float | None]]:
        platforms = sorted({p for g in trend for p, r in g.reach_by_platform.items() if r.basis == basis})
        return {p: [g.reach_by_platform[p].value if p in g.reach_by_platform else None for g in trend]
                for p in platforms}

    # a month's unique reach and a daily average are different quantities: never on one axis
    reach = line_chart("Räckvidd per dag", months, reach_series("daily_average"), note="personer per dag i snitt")
    monthly = reach_series("month")
    interactions = bar_chart("Interaktioner", months, [g.interactions for g in trend],
                             note="reaktioner, kommentarer, delningar, sparningar på månadens inlägg")
    followers = bar_chart("Följare", months, [g.followers for g in trend], note="vid månadens slut",
                          colour=colors.HexColor("#6a8caf"))
    answered = bar_chart("Svar inom 24 timmar", months,
                         [100 * g.compliance if g.compliance is not None else None for g in trend],
                         note="andel av frågor och meddelanden, arbetstid vardagar 8–17", reference=100,
                         reference_label="löftet: alla", colour=GOOD, value_format=lambda v: f"{number(v)} %")
    per_week = [g.posts_per_week_per_account for g in trend]
    posts = bar_chart("Inlägg per vecka", months, per_week,
                      note="per konto" if data.scope.kind != "account" else "kontots inlägg",
                      reference=MIN_POSTS_PER_WEEK, reference_label="ett par gånger i veckan",
                      value_format=lambda v: number(v, 1))
    late = bar_chart("Sena fredagsinlägg", months, [g.late_friday_posts for g in trend],
                     note="publicerade fredag från kl. 15", colour=colors.HexColor("#e07b00"))
    removed = reasons_chart(f"Borttagna kommentarer i {month_name(data.month).split()[0]}", data.summary.removed,
                            note="och varför (riktlinjens skäl)")
    charts = [reach, interactions, followers, answered, posts, late, removed]
    if monthly:
        charts.insert(1, line_chart("Räckvidd under månaden", months, monthly,
                                    note="unika personer under hela månaden (plattformens eget tal)"))
    return charts


# --- tables --------------------------------------------------------------------------------------------


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=SANS, fontSize=9, leading=12.5, textColor=INK)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=10, textColor=MUTED),
        "kicker": ParagraphStyle("kicker", parent=base, fontSize=9, textColor=ACCENT, fontName=BOLD),
        "title": ParagraphStyle("title", parent=base, fontName=BOLD, fontSize=22, leading=26),
        "h2": ParagraphStyle("h2", parent=base, fontName=BOLD, fontSize=12.5, leading=16, spaceBefore=8,
                             spaceAfter=4),
        "bullet": ParagraphStyle("bullet", parent=base, fontSize=9.5, leading=13.5, leftIndent=9, bulletIndent=0,
                                 spaceAfter=2.5),
        "cell": ParagraphStyle("cell", parent=base, fontSize=7.5, leading=9.5),
    }


def _table(rows: list[list], widths: list[float], header_rows: int = 1, shade: list[int] | None = None,
           left: int = 1) -> Table:
    """`left`: how many leading columns are text (left-aligned); the rest are figures."""
    table = Table(rows, colWidths=widths, repeatRows=header_rows)
    style = [
        ("FONT", (0, 0), (-1, -1), SANS, 8),
        ("FONT", (0, 0), (-1, header_rows - 1), BOLD, 7),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("LINEBELOW", (0, header_rows - 1), (-1, header_rows - 1), 0.8, INK),
        ("ALIGN", (left, 0), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.2),
    ]
    for row in shade or []:
        style += [("BACKGROUND", (0, row), (-1, row), LIGHT), ("FONT", (0, row), (-1, row), BOLD, 8)]
    table.setStyle(TableStyle(style))
    return table


def kpi_rows(data: ReportData) -> tuple[list[list], list[int]]:
    g, b = data.summary, data.previous
    this, before = month_name(data.month).split()[0], month_name(b.month).split()[0] if b else ""
    rows: list[list] = [["Nyckeltal", this.capitalize(), before.capitalize(), "Förändring"]]
    shade: list[int] = []

    def section(name: str) -> None:
        shade.append(len(rows))
        rows.append([name, "", "", ""])

    def row(name: str, now, prev, fmt=number) -> None:
        rows.append([name, fmt(now), fmt(prev) if b else "", change(now, prev) if b else ""])

    section("Orienterad – når vi ut?")
    platforms = sorted(set(g.reach_by_platform) | set(b.reach_by_platform if b else {}))
    for p in platforms:
        now_reach, prev_reach = g.reach_by_platform.get(p), b.reach_by_platform.get(p) if b else None
        unit = "under månaden" if (now_reach or prev_reach) and (now_reach or prev_reach).basis == "month" else "per dag"
        row(f"Räckvidd {PLATFORM_NAMES.get(p, p)} ({unit})", now_reach.value if now_reach else None,
            prev_reach.value if prev_reach else None)
    if not platforms:
        row("Räckvidd", None, None)
    row("Länkklick", g.link_clicks, b.link_clicks if b else None)
    row("Videovisningar", g.video_views, b.video_views if b else None)
    section("Förvissad – engagerar vi?")
    row("Interaktioner på månadens inlägg", g.interactions, b.interactions if b else None)
    row("Engagemangsgrad (av följarna)", g.engagement_rate, b.engagement_rate if b else None, percent)
    row("Engagemangsgrad (av inläggens räckvidd)", g.engagement_rate_by_reach,
        b.engagement_rate_by_reach if b else None, percent)
    row("Kommentarer från medborgare", g.comments, b.comments if b else None)
    row("Andel borttagna kommentarer", g.removed_share, b.removed_share if b else None, percent)
    section("Lyssnad till – svarar vi?")
    row("Frågor och meddelanden som behövde svar", g.needing_answer, b.needing_answer if b else None)
    row("Besvarade inom 24 timmar", g.compliance, b.compliance if b else None, percent)
    row("Svarsfrekvens (fick svar alls)", g.response_rate, b.response_rate if b else None, percent)
    row("Mediantid till svar (arbetstid)", g.median_response_working_seconds,
        b.median_response_working_seconds if b else None, hours)
    section("Kanalen")
    row("Följare vid månadens slut", g.followers, b.followers if b else None)
    row("Nya följare", g.new_followers, b.new_followers if b else None)
    row("Inlägg per vecka" + (" och konto" if data.scope.kind != "account" else ""), g.posts_per_week_per_account,
        b.posts_per_week_per_account if b else None, lambda v: number(v, 1))
    row("Inlägg sent på fredag", g.late_friday_posts, b.late_friday_posts if b else None)
    return rows, shade


def account_rows(data: ReportData, styles: dict[str, ParagraphStyle]) -> list[list]:
    rows: list[list] = [["Konto", "Plattform", "Inlägg/v", "Räckvidd", "Interakt.", "Eng.grad", "Nya följ.",
                         "I tid", "Status"]]
    for c in sorted(data.channels, key=lambda c: (data.names[(c.platform, c.account_id)].name
                                                  if (c.platform, c.account_id) in data.names else c.account_id)):
        key = (c.platform, c.account_id)
        record = data.names.get(key)
        rows.append([Paragraph(record.name if record else c.account_id, styles["cell"]),
                     PLATFORM_NAMES.get(c.platform, c.platform), number(c.posts_per_week, 1),
                     number(c.reach) + ("*" if c.reach_basis == "daily_average" else ""), number(c.interactions),
                     percent(c.engagement_rate), number(c.new_followers), percent(c.compliance, 0),
                     Paragraph(status_text(data, key), styles["cell"])])
    return rows


def status_text(data: ReportData, key: tuple[str, str]) -> str:
    texts = []
    publishing = data.publishing.get(key)
    if publishing and publishing.status == "flagged":
        texts.append("publicerar för sällan")
    elif publishing and publishing.status == "escalated":
        texts.append("publicerar för sällan (till kommunikationsavd.)")
    poll = data.polling.get(key)
    if poll is None or poll.state != "ok":
        texts.append(POLL_STATES.get(poll.state if poll else "no_status", "hämtas inte"))
    return "; ".join(texts) or "ok"


def department_rows(data: ReportData, styles: dict[str, ParagraphStyle]) -> list[list]:
    rows: list[list] = [["Förvaltning", "Konton", "Inlägg/v/konto", "Interakt.", "Eng.grad", "Nya följ.",
                         "Frågor", "I tid"]]
    for name, g in data.departments:
        rows.append([Paragraph(name, styles["cell"]), number(g.accounts), number(g.posts_per_week_per_account, 1),
                     number(g.interactions), percent(g.engagement_rate), number(g.new_followers),
                     number(g.needing_answer), percent(g.compliance, 0)])
    return rows


DEFINITIONS = (
    "Räckvidd räknar personer och läggs aldrig ihop över dagar eller plattformar: plattformens eget "
    "månadstal där det finns (LinkedIn), annars genomsnittlig daglig räckvidd (*). X redovisar ingen räckvidd.",
    "Interaktioner = reaktioner + kommentarer + delningar + sparningar på inlägg publicerade under månaden "
    "(de delar plattformen har: Facebook och LinkedIn saknar sparningar). Länkklick och videovisningar räknas "
    "på samma inlägg, där plattformen har dem.",
    "Engagemangsgrad = interaktioner ÷ följare vid månadens slut; av räckvidden = interaktioner ÷ de "
    "inläggens räckvidd.",
    "Nya följare = nya följningar enligt plattformen; för X förändringen av antalet följare.",
    "Svar inom 24 timmar: frågor och direktmeddelanden besvarade inom löftet \"vi svarar inom 24 timmar under "
    "arbetstid, vardagar 8–17\"; mediantiden räknas i arbetstid.",
    "Borttagna kommentarer: dolda eller raderade av staden, med skälet i modereringsbeslutet.",
    "Ett konto publicerar för sällan när det har färre än 2 inlägg i veckan över 4 veckor; förvaltningen "
    "meddelas, och efter ytterligare 4 veckor kommunikationsavdelningen.",
    "– betyder att uppgiften saknas: plattformen har den inte, lämnade den inte, eller månaden hämtades bara "
    "delvis (kontot började hämtas under månaden) – aldrig noll.",
)


def render_report(data: ReportData, created: datetime) -> bytes:
    _fonts()
    styles = _styles()
    buffer = io.BytesIO()
    title = f"Månadsrapport sociala medier {month_name(data.month)} – {data.scope.name}"
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=16 * mm, rightMargin=16 * mm, topMargin=14 * mm,
                            bottomMargin=14 * mm, title=title, author="socialops", subject="Uppföljning av "
                            "stadens konton i sociala medier", creator="socialops-sla", invariant=1)
    scope_line = {"city": "Alla stadens konton", "department": "Förvaltningens konton",
                  "account": "Ett konto"}[data.scope.kind]
    story: list = [
        Paragraph("SOCIALA MEDIER · MÅNADSRAPPORT", styles["kicker"]),
        Paragraph(f"{month_name(data.month).capitalize()} · {data.scope.name}", styles["title"]),
        Paragraph(f"{scope_line}: {len(data.accounts)} · skapad {swedish_date(created)}", styles["small"]),
        Spacer(1, 6 * mm),
        Paragraph("Det viktigaste", styles["h2"]),
        *[Paragraph(line, styles["bullet"], bulletText="•") for line in headline(data)],
        Spacer(1, 3 * mm),
        Paragraph("Nyckeltal", styles["h2"]),
    ]
    rows, shade = kpi_rows(data)
    story.append(_table(rows, [82 * mm, 30 * mm, 30 * mm, 36 * mm], shade=shade))
    story += [PageBreak(), Paragraph("Utvecklingen de senaste 13 månaderna", styles["h2"])]
    charts = trend_charts(data)
    grid = [charts[i:i + 2] for i in range(0, len(charts), 2)]
    grid[-1] += [""] * (2 - len(grid[-1]))
    charts_table = Table(grid, colWidths=[89 * mm, 89 * mm])
    charts_table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("BOTTOMPADDING", (0, 0), (-1, -1), 4)]))
    story.append(charts_table)
    story += [PageBreak()]
    if data.scope.kind == "city" and data.departments:
        story += [Paragraph("Förvaltningarna", styles["h2"]),
                  _table(department_rows(data, styles), [54 * mm, 14 * mm, 22 * mm, 18 * mm, 17 * mm, 17 * mm,
                                                         16 * mm, 18 * mm])]
    if data.scope.kind != "city" or len(data.channels) <= 60:
        story += [Paragraph("Kontona", styles["h2"]),
                  _table(account_rows(data, styles), [38 * mm, 17 * mm, 13 * mm, 17 * mm, 16 * mm, 15 * mm,
                                                      15 * mm, 12 * mm, 35 * mm], left=2),
                  Paragraph("* genomsnittlig daglig räckvidd", styles["small"])]
    quiet = data.quiet()
    story.append(Paragraph("Konton som publicerar för sällan", styles["h2"]))
    if quiet:
        for record, state in quiet:
            what = ("förvaltningen har meddelats" if state.status == "flagged" else
                    "ärendet har gått vidare till kommunikationsavdelningen")
            story.append(Paragraph(
                f"{record.name} ({PLATFORM_NAMES.get(record.platform.value, record.platform.value)}, "
                f"{record.department}): {state.posts_in_period} inlägg de senaste 4 veckorna, för sällan sedan "
                f"{swedish_date(state.quiet_since)}; {what}. Publicerar kontot igen försvinner flaggan; annars "
                "stängs det enligt checklistan (sista inlägg, arkivering, kontoförteckningen, behörigheter).",
                styles["bullet"], bulletText="•"))
    else:
        story.append(Paragraph("Inga: alla konton publicerar minst ett par gånger i veckan.", styles["body"]))
    missing = data.not_polled()
    if missing:
        story.append(Paragraph("Konton utan siffror från plattformen", styles["h2"]))
        for record, poll in missing:
            story.append(Paragraph(f"{record.name} ({PLATFORM_NAMES.get(record.platform.value, record.platform.value)})"
                                   f": {POLL_STATES.get(poll.state, poll.state)}.", styles["bullet"], bulletText="•"))
    story.append(KeepTogether([Paragraph("Så räknas siffrorna", styles["h2"]),
                               *[Paragraph(text, styles["small"]) for text in DEFINITIONS]]))

    def footer(canvas, document) -> None:  # noqa: ANN001 - reportlab's page callback
        canvas.saveState()
        canvas.setFont(SANS, 7)
        canvas.setFillColor(MUTED)
        canvas.drawString(16 * mm, 8 * mm, f"{data.scope.name} · {month_name(data.month)}")
        canvas.drawRightString(A4[0] - 16 * mm, 8 * mm, f"Sida {document.page}")
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


__all__ = ["CITY", "ChannelKpis", "headline", "render_report"]

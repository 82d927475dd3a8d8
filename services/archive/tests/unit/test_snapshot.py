"""Rendering the snapshot of a removed comment in its thread."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from PIL import Image
from socialops_archive.queries import SearchFilters, build_search
from socialops_archive.snapshot import ShownItem, ThreadSnapshot, render_pdf, render_png
from socialops_archive.store import registration_number
from socialops_common.mail import retry_delay

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _snapshot() -> ThreadSnapshot:
    return ThreadSnapshot(
        registration_number="KS 2026/000123", platform="facebook", account="Helsingborgs stad",
        permalink="https://facebook.com/1", post=ShownItem("Helsingborgs stad (kontot)", "Nya öppettider", AT),
        comments=[ShownItem("Anna", "Bra!", AT), ShownItem("Bo", "Ni är idioter " * 20, AT, removed=True, versions=2),
                  ShownItem("Cia", "Tack", AT)],
        operation="delete", removed_by="Redaktör Eva", removed_at=AT, reason="abuse.insult (seed 001)",
        earlier_versions=["Ni är dumma"],
    )


def test_pdf_has_embedded_font_and_metadata() -> None:
    pdf = render_pdf(_snapshot(), AT)
    assert pdf.startswith(b"%PDF") and b"/FontFile2" in pdf
    assert b"/Title" in pdf and b"/Author" in pdf and b"/Encrypt" not in pdf
    assert render_pdf(_snapshot(), AT) == pdf  # deterministic: same snapshot, same bytes


def test_png_shows_every_line_with_the_removed_comment_marked() -> None:
    snapshot = _snapshot()
    image = Image.open(io.BytesIO(render_png(snapshot)))
    assert image.format == "PNG" and image.width == 1000
    assert image.height >= 22 * len(snapshot.lines())
    lines = [text for _, text in snapshot.lines()]
    assert lines[0] == "Raderad kommentar – KS 2026/000123"
    assert any(text.startswith("▶ BORTTAGEN: Bo") and "2 versioner" in text for text in lines)
    assert "Skäl: abuse.insult (seed 001)" in lines and "v1: Ni är dumma" in lines


def test_registration_numbers_follow_the_series() -> None:
    assert registration_number("KS", 2026, 123) == "KS 2026/000123"


def test_backoff_doubles_and_is_capped() -> None:
    assert [retry_delay(n, 5.0, 3600.0) for n in (1, 2, 4, 30)] == [5.0, 10.0, 40.0, 3600.0]


def test_search_filters_become_parameters_never_sql_text() -> None:
    evil = "x'; DROP TABLE item; --"
    sql, params = build_search(SearchFilters(q=evil, author=evil, rule="personal_data", removed=True), 10, 0)
    assert evil not in sql and params[:2] == [evil, evil]
    assert "websearch_to_tsquery('swedish', $1)" in sql and "i.item_type <> 'dm'" in sql
    sql_dm, _ = build_search(SearchFilters(include_direct_messages=True), 10, 0)
    assert "item_type <> 'dm'" not in sql_dm

"""What people read: Swedish words, sv-SE times in Stockholm, Swedish order, version differences, marks."""

from __future__ import annotations

from socialops_console import formatting as fmt


def test_times_are_shown_in_stockholm_time_across_summer_time() -> None:
    assert fmt.short_time("2026-12-01T13:05:00+00:00") == "2026-12-01 14:05"  # CET, UTC+1
    assert fmt.short_time("2026-06-18T13:05:00Z") == "2026-06-18 15:05"  # CEST, UTC+2
    assert fmt.long_time("2026-12-01T13:05:00+00:00") == "tisdag 1 december 2026 kl. 14.05"
    assert fmt.short_time(None) == "" and fmt.long_time("") == ""


def test_a_typed_day_is_the_whole_stockholm_day() -> None:
    assert fmt.day_start("2026-03-28").isoformat() == "2026-03-27T23:00:00+00:00"
    # the day summer time starts is 23 hours long
    assert fmt.day_start("2026-03-29", next_day=True).isoformat() == "2026-03-29T22:00:00+00:00"
    assert fmt.day_start("") is None


def test_swedish_alphabetical_order_puts_a_ring_before_a_umlaut_before_o_umlaut() -> None:
    names = ["Örebro", "Ängelholm", "Åstorp", "Zinkgruvan", "Arvika", "ängelholm 2", "Öckerö"]
    assert fmt.swedish_sorted(names) == ["Arvika", "Zinkgruvan", "Åstorp", "Ängelholm", "ängelholm 2",
                                         "Öckerö", "Örebro"]
    assert sorted(["Ängelholm", "Åstorp"]) == ["Åstorp", "Ängelholm"][::-1]  # what plain sorting gets wrong


def test_the_difference_between_versions_word_by_word() -> None:
    assert fmt.word_diff("Varför stänger badhuset redan nu?", "Varför stänger badhuset redan i december?") == [
        ("same", "Varför stänger badhuset redan "), ("removed", "nu?"), ("added", "i december?")]
    html = str(fmt.diff_markup("hej <b>", "hej <b> då"))
    assert "&lt;b&gt;" in html and "<ins>" in html and "tillagt" in html  # escaped, and said in words


def test_marks_are_escaped_and_never_overlap() -> None:
    text = "Badhuset <stängt>, badhuset öppnar"
    assert str(fmt.marked(text, [[0, 8], [4, 10], [19, 27]])) == (
        "<mark>Badhuset</mark> &lt;stängt&gt;, <mark>badhuset</mark> öppnar")
    assert str(fmt.marked(None, [[0, 1]])) == ""


def test_rules_and_counts_in_words() -> None:
    assert fmt.rule_name("personal_data.personnummer") == "personnummer"
    assert fmt.rule_name("personal_data.something_new") == "personuppgifter"
    assert fmt.rule_name("unknown.rule") == "unknown.rule"
    assert fmt.count_words(1, False, 1, False) == "1 träff"
    assert fmt.count_words(12345, False, 25, True) == "12 345 träffar"
    assert fmt.count_words(10001, True, 25, True) == "fler än 10 000 träffar"
    assert fmt.count_words(None, False, 3, True) == "3 träffar på sidan (fler finns)"

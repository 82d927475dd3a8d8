from hypothesis import given
from hypothesis import strategies as st
from socialops_moderation.text import fold_pattern, normalise


def test_obfuscations_fold_to_the_plain_word():
    for written in ["j@vla", "jäääävla", "JÄVLA", "javla", "j4vla"]:
        assert normalise(written).text in ("jävla", "javla")
    for written in ["i d i o t", "i.d.i.o.t", "i-d-i-o-t", "id10t", "IIIDIOT"]:
        assert normalise(written).text == "idiot"


def test_wide_gaps_between_spelled_out_letters_stay_word_breaks():
    assert normalise("J A G  V E T  V A R  D U  B O R").text == "jag vet var du bor"


def test_numbers_and_swedish_letters_survive():
    assert normalise("Ring 112 eller 070-123 45 67").text == "ring 112 eler 070-123 45 67"
    assert normalise("höra").text != normalise("hora").text


def test_span_maps_back_to_the_original_characters():
    original = "Din j@vla i d i o t!"
    n = normalise(original)
    start = n.text.index("idiot")
    s, e = n.span(start, start + len("idiot"))
    assert original[s:e] == "i d i o t"


def test_patterns_are_folded_but_escapes_kept():
    assert fold_pattern(r"\bjävla (du|ni)\b") == r"\bj[äae]vla (du|ni)\b"


@given(st.text(max_size=60))
def test_every_folded_character_points_into_the_original_in_order(text):
    n = normalise(text)
    assert len(n.origin) == len(n.text)
    assert all(0 <= o < len(text) for o in n.origin)
    assert list(n.origin) == sorted(n.origin)

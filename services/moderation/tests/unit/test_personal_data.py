import re

from hypothesis import given
from hypothesis import strategies as st
from socialops_moderation.rules.personal_data import (
    PersonalDataConfig,
    classify_personal_data,
    luhn_valid,
    mask,
)


def rules(text, config=None):
    return {h.rule_id for h in classify_personal_data(text, config)}


def test_personnummer_with_every_separator():
    for written in ["811218-9876", "19811218-9876", "198112189876", "8112189876", "811218 9876", "811218–9876", "811218+9876"]:
        assert rules(f"Mitt nummer: {written}, tack") == {"personal_data.personnummer"}, written


def test_a_wrong_check_digit_or_impossible_date_is_not_a_personnummer():
    assert rules("Faktura 811218-9877") == set()
    assert rules("Ordernummer 811318-9876") == set()  # month 13


def test_samordningsnummer_has_day_plus_sixty():
    assert rules("samordningsnummer 701063-2391") == {"personal_data.samordningsnummer"}


def test_phone_numbers_but_not_public_numbers_or_dates():
    assert rules("Ring mig på 070-123 45 67") == {"personal_data.phone"}
    assert rules("+46 70 123 45 67") == {"personal_data.phone"}
    assert rules("Ring 112, 1177 eller 114 14, eller kontaktcenter 042-10 50 00") == set()
    assert rules("Mötet är 2024-05-14 kl 18.00, budget 1 250 000 kr") == set()


def test_the_switchboard_allow_list_is_configuration():
    config = PersonalDataConfig(allowed_phone_numbers=("070-123 45 67",))
    assert rules("Ring 070-123 45 67", config) == set()
    assert rules("Ring 042-10 50 00", config) == {"personal_data.phone"}


def test_email_address_and_bank_details():
    assert rules("mejla anna.k@gmail.com") == {"personal_data.email"}
    assert rules("skriv till kommunikation@helsingborg.se") == set()
    assert rules("Betala till SE45 5000 0000 0583 9825 7466") == {"personal_data.bank_account"}
    assert rules("kort 4111 1111 1111 1111") == {"personal_data.bank_account"}
    assert rules("Kontonummer 8327-9 123 456 789-0") == {"personal_data.bank_account"}


def test_street_address_and_postcode_but_not_a_street_name_alone():
    assert rules("Jag bor på Drottninggatan 12B, 252 21 Helsingborg") == {"personal_data.address"}
    assert rules("Drottninggatan är avstängd på söndag") == set()


def test_masking_keeps_no_digit_of_the_number_and_spans_carry_labels_only():
    text = "Hej, 811218-9876 och 070-123 45 67 och a.b@gmail.com"
    hits = classify_personal_data(text)
    masked = mask(text, hits)
    assert masked == "Hej, [personnummer] och [phone] och [email]"
    for h in hits:
        for span in h.spans:
            assert set(span.model_dump()) == {"start", "end", "label"}


def _with_check_digit(nine: str) -> str:
    return next(nine + d for d in "0123456789" if luhn_valid(nine + d))


@given(
    year=st.integers(0, 99), month=st.integers(1, 12), day=st.integers(1, 28), serial=st.integers(0, 999),
    separator=st.sampled_from(["-", "+", " ", "–", ""]), coordination=st.booleans(),
)
def test_any_valid_number_is_found_and_masked(year, month, day, serial, separator, coordination):
    day = day + 60 if coordination else day
    ten = _with_check_digit(f"{year:02d}{month:02d}{day:02d}{serial:03d}")
    written = ten[:6] + separator + ten[6:]
    hits = classify_personal_data(f"Mitt nummer är {written} hälsningar")
    expected = "personal_data.samordningsnummer" if coordination else "personal_data.personnummer"
    assert {h.rule_id for h in hits} == {expected}
    assert not re.search(r"\d{4}", mask(f"Mitt nummer är {written} hälsningar", hits))

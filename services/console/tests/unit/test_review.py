"""What a reviewer reads: spans are marked only on text whose offsets still hold."""

from __future__ import annotations

from socialops_console.pages_review import shown_text


def test_rule_and_model_spans_are_marked_on_unmasked_text() -> None:
    item = {"masked_text": "Du är en lögnare", "rules": [{"rule_id": "abuse.personal_attack",
                                                            "spans": [{"start": 9, "end": 16, "label": "x"}]}],
            "model": {"words": [{"start": 0, "end": 2, "label": "attack", "weight": 1.0}]}}
    assert shown_text(item) == ("Du är en lögnare", [[0, 2], [9, 16]])


def test_no_spans_where_personal_data_was_masked() -> None:
    item = {"masked_text": "Ring [telefon] nu", "rules": [{"rule_id": "personal_data.phone",
                                                             "spans": [{"start": 5, "end": 18, "label": "phone"}]}]}
    assert shown_text(item) == ("Ring [telefon] nu", [])

"""Personal-data masking (roles and tokens: libs/common/tests/test_identity.py)."""

from __future__ import annotations

from socialops_archive.access import MASK, mask_spans, masked_text


def test_masking_prefers_the_decisions_masked_text_then_spans() -> None:
    text = "Ring 070-123 45 67 nu"
    spans = [{"rule_id": "personal_data.phone", "spans": [{"start": 5, "end": 18, "label": "phone"}]}]
    assert masked_text(text, {"masked_text": "Ring [tel] nu", "rules": spans}) == "Ring [tel] nu"
    assert masked_text(text, {"rules": spans}) == "Ring " + MASK * 7 + " " + MASK * 2 + " " + MASK * 2 + " nu"
    insult = [{"rule_id": "abuse.insult", "spans": [{"start": 0, "end": 4, "label": "x"}]}]
    assert masked_text(text, {"rules": insult}) == text  # only personal data is masked
    assert masked_text(text, None) == text and masked_text(None, {"rules": spans}) is None


def test_mask_spans_keeps_length_and_whitespace() -> None:
    assert mask_spans("ab cd", [(0, 5)]) == f"{MASK}{MASK} {MASK}{MASK}"
    assert mask_spans("abc", [(-3, 99)]) == MASK * 3

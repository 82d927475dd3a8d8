"""Tokens, roles and personal-data masking."""

from __future__ import annotations

import pytest
from socialops_archive.access import MASK, Permission, Role, TokenBook, mask_spans, masked_text


def test_tokens_map_to_roles_and_names_never_contain_the_token() -> None:
    book = TokenBook("abc:archivist, def:registrar,ghi:admin")
    assert len(book) == 3
    assert book.principal("def").role is Role.REGISTRAR
    assert book.principal("nope") is None and book.principal("") is None
    assert "abc" not in book.principal("abc").name


@pytest.mark.parametrize("spec", ["abc", "abc:boss", ":archivist"])
def test_bad_token_configuration_is_refused(spec: str) -> None:
    with pytest.raises(ValueError):
        TokenBook(spec)


def test_role_permissions() -> None:
    book = TokenBook("a:archivist,r:registrar,x:admin")
    archivist, registrar, admin = (book.principal(t) for t in "arx")
    assert archivist.may(Permission.SEARCH) and not archivist.may(Permission.EXPORT)
    assert not archivist.may(Permission.READ_PERSONAL_DATA) and not archivist.may(Permission.READ_DIRECT_MESSAGES)
    assert registrar.may(Permission.READ_DIRECT_MESSAGES) and registrar.may(Permission.EXPORT)
    assert not registrar.may(Permission.READ_AUDIT_LOG)
    assert admin.may(Permission.READ_AUDIT_LOG) and admin.may(Permission.MANAGE_RETENTION)
    assert not admin.may(Permission.READ_PERSONAL_DATA)


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

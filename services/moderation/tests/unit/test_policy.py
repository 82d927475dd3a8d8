from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st
from socialops_common.events import EventKind, ModerationAction
from socialops_moderation.classify import Classifier
from socialops_moderation.policy import PolicyBook, decide, decide_outcome, decision_id_for
from socialops_moderation.testing import comment

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BOOK = PolicyBook.load()


def outcome(text, kind=EventKind.COMMENT_CREATED, policy=None):
    return decide_outcome(Classifier().classify_text(text), kind, policy or BOOK.default)


def test_guideline_defaults():
    assert outcome("Bra jobbat!").action == ModerationAction.ALLOW
    hide = outcome("Mitt pnr är 811218-9876")
    assert (hide.action, hide.block_author) == (ModerationAction.HIDE, False)
    for text in ["Jag vet var du bor", "Din jävla idiot"]:
        delete = outcome(text)
        assert (delete.action, delete.block_author) == (ModerationAction.DELETE, True)
    assert outcome("Politikerna är idioter").action == ModerationAction.HIDE
    assert outcome("Kolla bit.ly/xyz").action == ModerationAction.REVIEW


def test_uncertain_hit_goes_to_review_with_a_suggestion():
    result = outcome("Du är en lögnare")
    assert result.action == ModerationAction.REVIEW
    assert (result.suggested_action, result.suggested_block) == (ModerationAction.DELETE, True)


def test_needs_answer_survives_a_personal_data_hide_but_not_abuse():
    assert outcome("Mitt pnr är 811218-9876, när kommer beslutet?").needs_answer is True
    assert outcome("När öppnar ni, din jävla idiot?").needs_answer is False


def test_dm_is_never_removed_and_always_needs_an_answer():
    dm = outcome("Mitt pnr är 811218-9876, kan ni hjälpa mig", EventKind.DM_RECEIVED)
    assert (dm.action, dm.needs_answer) == (ModerationAction.ALLOW, True)
    assert outcome("Jag vet var du bor", EventKind.DM_RECEIVED).action == ModerationAction.REVIEW


def test_per_account_overrides_change_only_what_they_name():
    review_first = BOOK.named("review_first")
    assert outcome("Jag vet var du bor", policy=review_first).action == ModerationAction.REVIEW
    assert outcome("Mitt pnr är 811218-9876", policy=review_first).action == ModerationAction.HIDE
    assert outcome("Kolla bit.ly/xyz", policy=BOOK.named("crisis")).action == ModerationAction.HIDE
    assert BOOK.named("no-such-policy") is BOOK.default


def test_policy_is_data():
    book = PolicyBook.from_data({"default": {"rules": {"personal_data": {"action": "delete", "block_author": True}}}})
    assert outcome("Mitt pnr är 811218-9876", policy=book.default).action == ModerationAction.DELETE
    assert outcome("Okänd regel: bit.ly/x", policy=book.default).action == ModerationAction.REVIEW  # unknown rule: a person


def test_decision_is_masked_deterministic_and_explains_itself():
    event = comment("Ring mig på 070-123 45 67, din idiot")
    decision = decide(event, Classifier().classify_text(event.text), BOOK.default, decided_at=NOW)
    assert decision.decision_id == decision_id_for(event.event_id, "default")
    # the number's digits, not "070" alone: the random item and event ids are hex and can hold "070"
    assert "123 45 67" not in decision.model_dump_json() and "[phone]" in decision.masked_text
    assert decision.action == ModerationAction.DELETE and decision.block_author
    assert all(r.clause.startswith("seeds/001_206af399bca50804.txt") for r in decision.rules)
    assert "personligt påhopp" in decision.notification_text and "inte längre kommentera" in decision.notification_text


PERSONAL_DATA = st.one_of(
    st.sampled_from(["19811218-9876", "811218 9876", "701063-2391", "460923+2386"]),
    st.builds(lambda n: f"070-{n // 10000:03d} {n % 10000 // 100:02d} {n % 100:02d}", st.integers(1_000_000, 9_999_999)),
    st.builds(lambda name, host: f"{name}@{host}.se", st.from_regex(r"[a-z]{3,8}\.[a-z]{3,8}", fullmatch=True), st.sampled_from(["telia", "gmail", "bredband"])),
)
FILLER = st.sampled_from(["Hej!", "Mitt nummer är", "ring mig", "när får jag svar?", "tack", "skriv till", "Din idiot,", ""])


@settings(max_examples=60, deadline=None)
@given(before=FILLER, value=PERSONAL_DATA, after=FILLER)
def test_personal_data_never_leaves_in_clear(before, value, after):
    event = comment(f"{before} {value} {after}")
    decision = decide(event, Classifier().classify_text(event.text), BOOK.default, decided_at=NOW)
    assert value not in decision.model_dump_json()
    assert decision.action in (ModerationAction.HIDE, ModerationAction.DELETE)


def test_a_person_first_override_still_suggests_what_the_default_would_do() -> None:
    """review_first sends insults to a person; "confirm" then hides, as the default policy would have."""
    from datetime import UTC, datetime

    from socialops_moderation.classify import Classifier
    from socialops_moderation.policy import PolicyBook, decide_with_suggestion
    from socialops_moderation.testing import comment

    book = PolicyBook.load()
    event = comment("Politikerna är idioter som inte fattar något")
    findings = Classifier().classify(event.text, account="a", author="u", event_id=event.event_id,
                                     item_id=event.item_id, at=event.occurred_at)
    at = datetime(2026, 3, 2, tzinfo=UTC)
    default, _ = decide_with_suggestion(event, findings, book.named(None), decided_at=at)
    first, suggestion = decide_with_suggestion(event, findings, book.named("review_first"), decided_at=at)
    assert default.action.value == "hide"
    assert first.action.value == "review" and suggestion == {"action": "hide", "block_author": False, "needs_answer_if_allowed": False}

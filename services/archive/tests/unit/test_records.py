"""The pure archive logic: versions, hashes, chain, removal detection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from socialops_archive.records import (
    GENESIS_HASH,
    ArchiveBatch,
    action_message_key,
    canonical_record,
    chain_events,
    item_type_of,
    json_text,
    removal_from_event,
    removal_from_outcome,
    verify_chain,
)
from socialops_common.events import (
    ActionOperation,
    ActionStatus,
    EventKind,
    ModerationAction,
    ModerationDecision,
    Platform,
    PlatformActionCommand,
    PlatformActionOutcome,
    RuleHit,
    TextSpan,
)

from ..conftest import comment_event

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _events() -> list:
    return [
        comment_event(account="a", thread="t", item="c", text="ett"),
        comment_event(account="a", thread="t", item="c", kind=EventKind.COMMENT_EDITED, text="två", version="1"),
        comment_event(account="a", thread="t", item="c", kind=EventKind.COMMENT_HIDDEN, text=None),
        comment_event(account="a", thread="t", item="c", kind=EventKind.COMMENT_EDITED, text="tre", version="2"),
    ]


def _rows(chained) -> list[tuple]:
    return [(c.seq, c.event.event_id, c.record, c.sha256, c.prev_hash, c.chain_hash, c.event.text) for c in chained]


def test_content_events_are_numbered_versions_and_lifecycle_events_are_not() -> None:
    chained = chain_events(_events(), 0, 0, GENESIS_HASH)
    assert [(c.seq, c.version_no) for c in chained] == [(1, 1), (2, 2), (3, None), (4, 3)]
    assert chained[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.chain_hash for a, b in zip(chained, chained[1:], strict=False))


def test_chain_continues_from_the_stored_head() -> None:
    first = chain_events(_events()[:2], 0, 0, GENESIS_HASH)
    rest = chain_events(_events()[2:], 2, 2, first[-1].chain_hash)
    whole = chain_events(_events(), 0, 0, GENESIS_HASH)
    assert [c.chain_hash for c in first + rest] == [c.chain_hash for c in whole]
    assert verify_chain(1, _rows(whole)) == []


def test_verify_names_the_tampered_link() -> None:
    rows = _rows(chain_events(_events(), 0, 0, GENESIS_HASH))
    seq, event_id, record, digest, prev, link, text = rows[1]
    rows[1] = (seq, event_id, record.replace("två", "fyra"), digest, prev, link, "fyra")
    broken = verify_chain(7, rows)
    assert [(b.item_ref, b.seq, b.problem) for b in broken] == [(7, 2, "record does not match its SHA-256")]
    assert event_id in str(broken[0])


def test_verify_finds_a_removed_event_and_a_rewritten_text_column() -> None:
    rows = _rows(chain_events(_events(), 0, 0, GENESIS_HASH))
    problems = {b.problem for b in verify_chain(1, [rows[0], *rows[2:]])}
    assert "sequence gap: expected #2" in problems and "prev_hash does not match the previous link" in problems
    seq, event_id, record, digest, prev, link, _ = rows[0]
    assert [b.problem for b in verify_chain(1, [(seq, event_id, record, digest, prev, link, "ändrad")])] == [
        "text column differs from the record"]


@given(st.text(max_size=200))
def test_canonical_record_is_stable_for_any_text(text: str) -> None:
    event = comment_event(account="a", thread="t", item="c", text=text)
    again = type(event).model_validate_json(event.model_dump_json())
    assert canonical_record(event) == canonical_record(again)


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


def _pydantic_json_text(model) -> str:
    """The reference (and the encoding before orjson took the model's Python values): pydantic's JSON
    mode, encoded with sorted keys."""
    return json_text(model.model_dump(mode="json"), sort_keys=True)


@given(
    text=st.text(max_size=60) | st.none(),
    raw=st.dictionaries(st.text(max_size=8), _JSON_VALUES, max_size=5),
    at=st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1),
                    timezones=st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5))])),
    confidence=st.floats(min_value=0, max_value=1),
)
# What orjson refuses, and the standard encoder takes: an integer beyond 64 bits, a lone surrogate.
@example(text="\ud800", raw={"id": 2**70}, at=datetime(2026, 3, 2, 9, 0, 0, 1, tzinfo=UTC), confidence=0.5)
def test_canonical_record_is_pydantics_json_with_sorted_keys(text, raw, at, confidence) -> None:
    event = comment_event(account="a", thread="t", item="c", text=text, at=at).model_copy(update={"raw": raw})
    decision = ModerationDecision(
        decision_id="d", event_id=event.event_id, platform=Platform.FACEBOOK, account_id="a", item_id="c",
        thread_id="t", item_kind=EventKind.COMMENT_CREATED, action=ModerationAction.HIDE,
        rules=[RuleHit(rule_id="personal_data.phone", clause="seed 001", confidence=confidence,
                       spans=[TextSpan(start=0, end=3, label="phone")])],
        decided_at=at,
    )
    for model in (event, decision):
        assert canonical_record(model) == _pydantic_json_text(model)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [(EventKind.POST_PUBLISHED, "post"), (EventKind.COMMENT_EDITED, "comment"), (EventKind.REPLY_BY_ACCOUNT, "reply"),
     (EventKind.DM_SENT, "dm"), (EventKind.MENTION, "mention"), (EventKind.COMMENT_HIDDEN, "comment")],
)
def test_item_classes(kind: EventKind, expected: str) -> None:
    assert item_type_of(kind) == expected


def test_only_city_removals_are_registered() -> None:
    hidden, deleted, by_author = (
        comment_event(account="a", thread="t", item="c", kind=k, text=None)
        for k in (EventKind.COMMENT_HIDDEN, EventKind.COMMENT_DELETED_BY_CITY, EventKind.COMMENT_DELETED_BY_AUTHOR)
    )
    assert removal_from_event(hidden).operation == "hide"
    assert removal_from_event(deleted).operation == "delete"
    assert removal_from_event(by_author) is None


def _outcome(operation: ActionOperation, status: ActionStatus) -> PlatformActionOutcome:
    return PlatformActionOutcome(
        action_id="x", decision_id="d", event_id="e", platform=Platform.FACEBOOK, account_id="a", item_id="c",
        thread_id="t", operation=operation, status=status, completed_at=AT,
    )


def test_executor_outcomes_register_only_done_hides_and_deletes() -> None:
    assert removal_from_outcome(_outcome(ActionOperation.DELETE, ActionStatus.DONE)).operation == "delete"
    assert removal_from_outcome(_outcome(ActionOperation.HIDE, ActionStatus.DRY_RUN)) is None
    assert removal_from_outcome(_outcome(ActionOperation.HIDE, ActionStatus.FAILED)) is None
    assert removal_from_outcome(_outcome(ActionOperation.BLOCK_AUTHOR, ActionStatus.DONE)) is None
    batch = ArchiveBatch(actions=[_outcome(ActionOperation.HIDE, ActionStatus.DONE)],
                         events=[comment_event(account="a", thread="t", item="c", kind=EventKind.COMMENT_HIDDEN)])
    assert [(n.source, n.operation) for n in batch.removals()] == [("platform", "hide"), ("executor", "hide")]


def test_each_action_message_has_its_own_key() -> None:
    command = PlatformActionCommand(
        action_id="x", decision_id="d", event_id="e", platform=Platform.FACEBOOK, account_id="a", item_id="c",
        thread_id="t", operation=ActionOperation.HIDE, requested_at=AT)
    failed = _outcome(ActionOperation.HIDE, ActionStatus.FAILED)
    retried = failed.model_copy(update={"attempts": 2, "status": ActionStatus.DONE})
    assert len({action_message_key(m) for m in (command, failed, retried, failed)}) == 3


def test_highlight_marks_become_offsets_into_the_plain_text() -> None:
    from socialops_archive.queries import marked_spans

    assert marked_spans("Ring om \x02badhusets\x03 tider, \x02badhuset\x03!") == (
        "Ring om badhusets tider, badhuset!", [[8, 17], [25, 33]])
    assert marked_spans("ingen träff") == ("ingen träff", [])
    assert marked_spans("trasig\x03") is None

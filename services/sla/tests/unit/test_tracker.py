"""The SLA state machine on an in-memory ledger: no broker, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from socialops_common.events import (
    Actor,
    Author,
    EventKind,
    ModerationAction,
    ModerationDecision,
    Platform,
    SlaState,
    SocialEvent,
    social_event_id,
)
from socialops_sla.calendar import STOCKHOLM, ResponsePromise
from socialops_sla.tracker import Ledger, Tracker, looks_like_question

PROMISE = ResponsePromise()
tracker = Tracker(lambda platform, account: (PROMISE, "Kulturförvaltningen"))
TUESDAY_10 = datetime(2026, 11, 24, 10, tzinfo=STOCKHOLM).astimezone(UTC)
WEDNESDAY_10 = TUESDAY_10 + timedelta(days=1)


def event(kind: EventKind, item: str, *, parent: str | None = "post1", thread: str = "post1",
          at: datetime = TUESDAY_10, text: str | None = None, account: bool = False) -> SocialEvent:
    return SocialEvent(
        event_id=social_event_id(Platform.FACEBOOK, kind, item), kind=kind, platform=Platform.FACEBOOK,
        account_id="page1", item_id=item, thread_id=thread, parent_id=parent,
        author=Author(id="a", is_account=account), text=text, occurred_at=at, received_at=at,
    )


def decision(item: str, *, needs_answer: bool, action: ModerationAction = ModerationAction.ALLOW,
             at: datetime = TUESDAY_10 + timedelta(minutes=1)) -> ModerationDecision:
    return ModerationDecision(
        decision_id=f"d-{item}-{needs_answer}-{action}-{at.isoformat()}", event_id="e", platform=Platform.FACEBOOK,
        account_id="page1", item_id=item, thread_id="post1", item_kind=EventKind.COMMENT_CREATED, action=action,
        needs_answer=needs_answer, decided_at=at,
    )


def states(changes) -> list[str]:
    return [c.state.value for c in changes]


def test_question_heuristic() -> None:
    assert looks_like_question("När öppnar badet?")
    assert looks_like_question("Hur ansöker man om bygglov")
    assert looks_like_question("kan ni skicka blanketten")
    assert not looks_like_question("Kanonbra foto")  # 'kan' only as a whole word
    assert not looks_like_question("Tack för informationen!")
    assert not looks_like_question(None)


def test_question_then_reply_is_met_with_response_times() -> None:
    ledger = Ledger()
    opened = tracker.on_event(ledger, event(EventKind.COMMENT_CREATED, "c1", text="När öppnar badet?"), TUESDAY_10)
    assert states(opened) == ["open"]
    assert opened[0].deadline == WEDNESDAY_10 and opened[0].department == "Kulturförvaltningen"
    reply_at = TUESDAY_10 + timedelta(hours=8)  # Tuesday 18:00: 7 working hours after arrival
    met = tracker.on_event(ledger, event(EventKind.REPLY_BY_ACCOUNT, "r1", parent="c1", at=reply_at, account=True),
                           reply_at)
    assert states(met) == ["met"]
    assert met[0].response_working_seconds == 7 * 3600
    assert met[0].response_wall_seconds == 8 * 3600
    assert met[0].previous_state is SlaState.OPEN


def test_time_moves_open_to_at_risk_to_breached_at_their_instants() -> None:
    ledger = Ledger()
    tracker.on_event(ledger, event(EventKind.COMMENT_CREATED, "c1", text="Varför är vägen avstängd?"), TUESDAY_10)
    item = next(iter(ledger.items.values()))
    assert tracker.advance(item, TUESDAY_10 + timedelta(hours=5)) == []
    at_risk = tracker.advance(item, item.at_risk_at)
    assert states(at_risk) == ["at_risk"] and at_risk[0].changed_at == WEDNESDAY_10 - timedelta(hours=2)
    assert tracker.advance(item, WEDNESDAY_10 - timedelta(seconds=1)) == []
    breached = tracker.advance(item, WEDNESDAY_10)
    assert states(breached) == ["breached"] and breached[0].changed_at == WEDNESDAY_10
    assert item.next_due_at is None


def test_a_late_start_fires_both_transitions_at_once() -> None:
    ledger = Ledger()
    changes = tracker.on_event(ledger, event(EventKind.COMMENT_CREATED, "c1", text="Hur?"),
                               WEDNESDAY_10 + timedelta(hours=1))
    assert states(changes) == ["open", "at_risk", "breached"]


def test_reply_after_deadline_stays_breached_and_records_the_answer() -> None:
    ledger = Ledger()
    tracker.on_event(ledger, event(EventKind.COMMENT_CREATED, "c1", text="Hur?"), TUESDAY_10)
    late = WEDNESDAY_10 + timedelta(hours=1)
    changes = tracker.on_event(ledger, event(EventKind.REPLY_BY_ACCOUNT, "r1", parent="c1", at=late, account=True), late)
    assert states(changes) == ["at_risk", "breached", "breached"]
    assert changes[-1].reason == "answered_late" and changes[-1].answered_at == late


def test_answer_written_before_deadline_but_delivered_after_breach_corrects_to_met() -> None:
    ledger = Ledger()
    tracker.on_event(ledger, event(EventKind.COMMENT_CREATED, "c1", text="Hur?"), TUESDAY_10)
    item = next(iter(ledger.items.values()))
    tracker.advance(item, WEDNESDAY_10)
    written = WEDNESDAY_10 - timedelta(minutes=1)
    changes = tracker.on_event(ledger, event(EventKind.REPLY_BY_ACCOUNT, "r1", parent="c1", at=written, account=True),
                               WEDNESDAY_10 + timedelta(minutes=5))
    assert states(changes) == ["met"] and changes[0].reason == "replied_before_deadline"


def test_reply_later_in_the_same_comment_thread_answers_a_follow_up_question() -> None:
    ledger = Ledger()
    tracker.on_event(ledger, event(EventKind.COMMENT_CREATED, "c1", text="Bra initiativ"), TUESDAY_10)
    follow_up = tracker.on_event(ledger, event(EventKind.COMMENT_CREATED, "c2", parent="c1", text="Men när börjar det?",
                                               at=TUESDAY_10 + timedelta(minutes=5)), TUESDAY_10)
    assert states(follow_up) == ["open"]
    at = TUESDAY_10 + timedelta(hours=1)
    # the account replies to the top comment c1, after c2: that answers c2 (same sub-thread)
    changes = tracker.on_event(ledger, event(EventKind.REPLY_BY_ACCOUNT, "r1", parent="c1", at=at, account=True), at)
    assert states(changes) == ["met"] and changes[0].item_id == "c2"


def test_reply_to_another_comment_or_the_post_does_not_answer() -> None:
    ledger = Ledger()
    tracker.on_event(ledger, event(EventKind.COMMENT_CREATED, "c1", text="Hur?"), TUESDAY_10)
    at = TUESDAY_10 + timedelta(hours=1)
    assert tracker.on_event(ledger, event(EventKind.REPLY_BY_ACCOUNT, "r1", parent="c9", at=at, account=True), at) == []
    assert tracker.on_event(ledger, event(EventKind.REPLY_BY_ACCOUNT, "r2", parent="post1", at=at, account=True), at) == []


def test_dm_is_always_tracked_and_answered_by_a_later_dm_in_the_conversation() -> None:
    ledger = Ledger()
    dm = event(EventKind.DM_RECEIVED, "m1", parent=None, thread="conv1", text="Tack för hjälpen igår")
    assert states(tracker.on_event(ledger, dm, TUESDAY_10)) == ["open"]
    before = event(EventKind.DM_SENT, "m0", parent=None, thread="conv1", at=TUESDAY_10 - timedelta(hours=1), account=True)
    assert tracker.on_event(ledger, before, TUESDAY_10) == []  # written before the question: no answer
    after = event(EventKind.DM_SENT, "m2", parent=None, thread="conv1", at=TUESDAY_10 + timedelta(hours=2), account=True)
    assert states(tracker.on_event(ledger, after, TUESDAY_10)) == ["met"]


def test_hidden_or_deleted_cancels() -> None:
    for kind, reason in [(EventKind.COMMENT_HIDDEN, "hidden"), (EventKind.COMMENT_DELETED_BY_CITY, "deleted_by_city"),
                         (EventKind.COMMENT_DELETED_BY_AUTHOR, "deleted_by_author")]:
        ledger = Ledger()
        tracker.on_event(ledger, event(EventKind.COMMENT_CREATED, "c1", text="Hur?"), TUESDAY_10)
        changes = tracker.on_event(ledger, event(kind, "c1"), TUESDAY_10)
        assert states(changes) == ["cancelled"] and changes[0].reason == reason


def test_decision_needs_answer_opens_a_comment_the_heuristic_missed() -> None:
    ledger = Ledger()
    assert tracker.on_event(ledger, event(EventKind.COMMENT_CREATED, "c1", text="Jag vill veta öppettiderna"), TUESDAY_10) == []
    changes = tracker.on_decision(ledger, decision("c1", needs_answer=True), TUESDAY_10)
    assert states(changes) == ["open"] and changes[0].reason == "moderation"
    assert changes[0].received_at == TUESDAY_10  # the clock starts when the citizen wrote


def test_decision_not_a_question_cancels_a_heuristic_item() -> None:
    ledger = Ledger()
    tracker.on_event(ledger, event(EventKind.COMMENT_CREATED, "c1", text="Vad fint!?"), TUESDAY_10)
    changes = tracker.on_decision(ledger, decision("c1", needs_answer=False), TUESDAY_10)
    assert states(changes) == ["cancelled"] and changes[0].reason == "not_a_question"


def test_decision_hide_cancels() -> None:
    ledger = Ledger()
    tracker.on_event(ledger, event(EventKind.COMMENT_CREATED, "c1", text="Hur?"), TUESDAY_10)
    changes = tracker.on_decision(ledger, decision("c1", needs_answer=True, action=ModerationAction.HIDE), TUESDAY_10)
    assert states(changes) == ["cancelled"] and changes[0].reason == "hidden_by_moderation"


def test_a_removed_question_ends_cancelled_whether_the_decision_or_the_comment_came_first() -> None:
    hide = decision("c1", needs_answer=True, action=ModerationAction.HIDE)
    comment = event(EventKind.COMMENT_CREATED, "c1", text="Mitt personnummer är 721023-1655, kan ni kolla mitt ärende?")
    comment_first = Ledger()
    tracker.on_event(comment_first, comment, TUESDAY_10)
    tracker.on_decision(comment_first, hide, TUESDAY_10)
    decision_first = Ledger()
    assert tracker.on_decision(decision_first, hide, TUESDAY_10) == []
    changes = tracker.on_event(decision_first, comment, TUESDAY_10)
    assert states(changes) == ["open", "cancelled"] and changes[-1].reason == "hidden_by_moderation"
    for ledger in (comment_first, decision_first):
        item = ledger.items[("facebook", "page1", "c1")]
        assert (item.state, item.closed_reason, item.deadline) == (SlaState.CANCELLED, "hidden_by_moderation", WEDNESDAY_10)
    # a removed comment that is no question and needs no answer is still not tracked
    ledger = Ledger()
    tracker.on_decision(ledger, decision("c2", needs_answer=False, action=ModerationAction.HIDE), TUESDAY_10)
    assert tracker.on_event(ledger, event(EventKind.COMMENT_CREATED, "c2", text="Ni är idioter"), TUESDAY_10) == []


def test_a_decision_read_after_the_removal_does_not_reopen_the_removed_comment() -> None:
    """Found by the e2e fault test: X deletion, comment, then moderation's needs_answer decision."""
    ledger = Ledger()
    tracker.on_event(ledger, event(EventKind.COMMENT_DELETED_BY_AUTHOR, "c1"), TUESDAY_10)
    assert tracker.on_event(ledger, event(EventKind.COMMENT_CREATED, "c1", text="Jag undrar om parkeringen"),
                            TUESDAY_10) == []
    assert tracker.on_decision(ledger, decision("c1", needs_answer=True), TUESDAY_10 + timedelta(days=3)) == []
    assert ledger.items[("facebook", "page1", "c1")].state is None


def test_out_of_order_reply_before_decision_opens_as_met() -> None:
    ledger = Ledger()
    tracker.on_event(ledger, event(EventKind.COMMENT_CREATED, "c1", text="Jag undrar över parkeringen"), TUESDAY_10)
    at = TUESDAY_10 + timedelta(hours=1)
    assert tracker.on_event(ledger, event(EventKind.REPLY_BY_ACCOUNT, "r1", parent="c1", at=at, account=True), at) == []
    changes = tracker.on_decision(ledger, decision("c1", needs_answer=True, at=at + timedelta(minutes=1)), at)
    assert states(changes) == ["open", "met"]


def test_decision_before_comment_is_applied_when_the_comment_arrives() -> None:
    ledger = Ledger()
    assert tracker.on_decision(ledger, decision("c1", needs_answer=False), TUESDAY_10) == []
    assert tracker.on_event(ledger, event(EventKind.COMMENT_CREATED, "c1", text="Vad?"), TUESDAY_10) == []
    ledger = Ledger()
    tracker.on_decision(ledger, decision("c2", needs_answer=True), TUESDAY_10)
    assert states(tracker.on_event(ledger, event(EventKind.COMMENT_CREATED, "c2", text="Öppettider"), TUESDAY_10)) == ["open"]


def test_an_older_decision_delivered_late_does_not_override() -> None:
    ledger = Ledger()
    tracker.on_event(ledger, event(EventKind.COMMENT_CREATED, "c1", text="Hur?"), TUESDAY_10)
    tracker.on_decision(ledger, decision("c1", needs_answer=True, at=TUESDAY_10 + timedelta(minutes=5)), TUESDAY_10)
    assert tracker.on_decision(ledger, decision("c1", needs_answer=False, at=TUESDAY_10 + timedelta(minutes=1)),
                               TUESDAY_10) == []


def test_no_answer_needed_cancels_and_change_ids_are_deterministic() -> None:
    ledger = Ledger()
    first = tracker.on_event(ledger, event(EventKind.COMMENT_CREATED, "c1", text="Hur?"), TUESDAY_10)
    again = tracker.on_event(Ledger(), event(EventKind.COMMENT_CREATED, "c1", text="Hur?"), TUESDAY_10)
    assert first[0].change_id == again[0].change_id and first[0] == again[0]
    item = next(iter(ledger.items.values()))
    anna = Actor(subject="00u-anna", name="Anna Andersson", email="anna@stad.se")
    changes = tracker.no_answer_needed(item, anna, TUESDAY_10)
    assert states(changes) == ["cancelled"] and changes[0].reason == "no_answer_needed:00u-anna"
    assert changes[0].by == anna  # the change names the person
    assert tracker.no_answer_needed(item, anna, TUESDAY_10) == []  # closed items stay closed


def test_account_own_comment_is_not_tracked() -> None:
    assert tracker.on_event(Ledger(), event(EventKind.COMMENT_CREATED, "c1", text="Hur?", account=True), TUESDAY_10) == []


def test_a_question_held_as_possible_abuse_and_then_allowed_by_a_reviewer_is_open_again() -> None:
    """Moderation holds a question for review as possible abuse (needs_answer false), the reviewer
    lets it stand (needs_answer true): the item opens again with its first deadline."""
    ledger = Ledger()
    tracker.on_event(ledger, event(EventKind.COMMENT_CREATED, "c1", text="Är ni helt dumma i huvudet på tekniska?"), TUESDAY_10)
    held = tracker.on_decision(ledger, decision("c1", needs_answer=False, action=ModerationAction.REVIEW), TUESDAY_10)
    assert states(held) == ["cancelled"] and held[0].reason == "not_a_question"
    deadline = held[0].deadline
    allowed_at = TUESDAY_10 + timedelta(hours=2)
    reopened = tracker.on_decision(ledger, decision("c1", needs_answer=True, at=allowed_at), allowed_at)
    assert states(reopened) == ["open"] and reopened[0].reason == "needs_answer_after_review"
    assert reopened[0].previous_state is SlaState.CANCELLED and reopened[0].deadline == deadline
    assert reopened[0].change_id != held[0].change_id
    item = ledger.items[("facebook", "page1", "c1")]
    assert (item.opened_by, item.closed_reason) == ("moderation", None)
    # allowed only after its deadline: open and breached at once, the breach at the deadline itself
    late = Ledger()
    tracker.on_event(late, event(EventKind.COMMENT_CREATED, "c2", text="Är ni helt dumma i huvudet?"), TUESDAY_10)
    tracker.on_decision(late, decision("c2", needs_answer=False, action=ModerationAction.REVIEW), TUESDAY_10)
    much_later = TUESDAY_10 + timedelta(days=6)
    changes = tracker.on_decision(late, decision("c2", needs_answer=True, at=much_later), much_later)
    assert states(changes) == ["open", "at_risk", "breached"] and changes[-1].changed_at == changes[0].deadline


def _held_allowed_undone_allowed_again() -> list:
    """A question opened by the heuristic goes at risk, is held as possible abuse, let stand by a
    reviewer, the verdict undone (held again) and let stand again: two cycles of the same transitions."""
    ledger, changes = Ledger(), []
    changes += tracker.on_event(ledger, event(EventKind.COMMENT_CREATED, "c1", text="Hur tänkte ni nu, idioter?"), TUESDAY_10)
    item = ledger.items[("facebook", "page1", "c1")]
    changes += tracker.advance(item, item.at_risk_at)
    for minutes, needs_answer in ((10, False), (20, True), (30, False), (40, True)):
        at = item.at_risk_at + timedelta(minutes=minutes)
        action = ModerationAction.ALLOW if needs_answer else ModerationAction.REVIEW
        changes += tracker.on_decision(ledger, decision("c1", needs_answer=needs_answer, action=action, at=at), at)
    return changes


def test_each_reopening_cycle_gets_change_ids_of_its_own() -> None:
    """Readers (the archive, the outbox's consumers) drop a change id they have seen: the second
    "not_a_question" and the second "at_risk" are new facts, not a redelivery."""
    changes = _held_allowed_undone_allowed_again()
    assert [(c.state.value, c.reason) for c in changes] == [
        ("open", "question_heuristic"), ("at_risk", "two_working_hours_left"),
        ("cancelled", "not_a_question"), ("open", "needs_answer_after_review"), ("at_risk", "two_working_hours_left"),
        ("cancelled", "not_a_question"), ("open", "needs_answer_after_review"), ("at_risk", "two_working_hours_left"),
    ]
    assert len({c.change_id for c in changes}) == len(changes)
    # and still deterministic: the same inputs again give the same ids
    assert [c.change_id for c in _held_allowed_undone_allowed_again()] == [c.change_id for c in changes]


def test_only_a_not_a_question_cancel_is_reopened_by_a_later_needs_answer() -> None:
    ledger = Ledger()
    tracker.on_event(ledger, event(EventKind.COMMENT_CREATED, "c1", text="Hur?"), TUESDAY_10)
    tracker.on_decision(ledger, decision("c1", needs_answer=True, action=ModerationAction.HIDE), TUESDAY_10)
    assert tracker.on_decision(ledger, decision("c1", needs_answer=True, at=WEDNESDAY_10), WEDNESDAY_10) == []

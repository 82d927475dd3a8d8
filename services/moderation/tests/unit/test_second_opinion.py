"""The policy and the second opinion: review where the rules allow, removal only when the policy
asks for it *and* the model file certifies the class; the decision carries what a reviewer needs."""

import copy
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from socialops_common.events import (
    EventKind,
    ModelOpinion,
    ModerationAction,
    ModerationDecision,
    SpeechAct,
    WeighedWord,
)
from socialops_moderation.classify import Classifier, Findings
from socialops_moderation.policy import PolicyBook, decide, decide_outcome
from socialops_moderation.rules import load_data
from socialops_moderation.testing import comment

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BOOK = PolicyBook.load()
RULES_ONLY = Classifier(model=None)


def findings(scores: dict[str, float], removable: dict[str, float] | None = None, text: str = "En helt vanlig mening") -> Findings:
    """The rules' findings for `text`, with a model opinion of our choosing."""
    base = RULES_ONLY.classify_text(text)
    words = [WeighedWord(label=c, start=0, end=2, weight=1.0, term="en") for c in scores]
    return replace(base, model=ModelOpinion(version="test-1", scores=scores, words=words), removable=removable or {})


def test_confident_harm_where_the_rules_allow_goes_to_review_with_the_models_words():
    result = decide_outcome(findings({"threat": 0.93, "hate": 0.1}), EventKind.COMMENT_CREATED, BOOK.default)
    assert result.action == ModerationAction.REVIEW
    (model_hit,) = result.model_hits
    assert model_hit.rule_id == "model.threat" and model_hit.confidence == 0.93
    assert "Riktlinjer vid hantering av kommentarer" in model_hit.clause
    assert [(s.start, s.end) for s in model_hit.spans] == [(0, 2)]
    # what "confirm" would do: what the threat rule does
    assert (result.suggested_action, result.suggested_block) == (ModerationAction.DELETE, True)


def test_below_the_review_threshold_nothing_happens():
    result = decide_outcome(findings({"threat": 0.49, "attack": 0.29}), EventKind.COMMENT_CREATED, BOOK.default)
    assert (result.action, result.model_hits) == (ModerationAction.ALLOW, ())


def test_review_thresholds_are_per_class():
    """A class whose review costs little on allowable comments asks for review lower (policy.yaml)."""
    result = decide_outcome(findings({"threat": 0.45, "attack": 0.42}), EventKind.COMMENT_CREATED, BOOK.default)
    assert result.action == ModerationAction.REVIEW
    assert [h.rule_id for h in result.model_hits] == ["model.attack"]
    assert decide_outcome(findings({"attack": 0.33}), EventKind.COMMENT_CREATED, BOOK.default).action == ModerationAction.ALLOW


def test_the_model_never_removes_unless_the_policy_and_the_model_file_both_allow_it():
    data = copy.deepcopy(load_data("policy.yaml"))
    data["default"]["model"]["remove"] = {"scam": "hide"}
    remove_scams = PolicyBook.from_data(data)
    # a policy that lists nothing removes nothing on the model's word, certified or not
    assert decide_outcome(findings({"scam": 0.99}, {"scam": 0.9}), EventKind.COMMENT_CREATED,
                          BOOK.named("review_first")).action == ModerationAction.REVIEW
    # the policy asks, but the file does not certify the class
    assert decide_outcome(findings({"scam": 0.99}), EventKind.COMMENT_CREATED, remove_scams.default).action == ModerationAction.REVIEW
    # certified, but below the certified threshold
    assert decide_outcome(findings({"scam": 0.85}, {"scam": 0.9}), EventKind.COMMENT_CREATED, remove_scams.default).action == ModerationAction.REVIEW
    hidden = decide_outcome(findings({"scam": 0.95}, {"scam": 0.9}), EventKind.COMMENT_CREATED, remove_scams.default)
    assert (hidden.action, hidden.block_author) == (ModerationAction.HIDE, False)  # the model never blocks anyone
    # a DM never goes beyond review, whatever the model says; and DMs ignore spam, scams included
    data["default"]["model"]["remove"] = {"threat": "delete"}
    remove_threats = PolicyBook.from_data(data).default
    assert decide_outcome(findings({"threat": 0.95}, {"threat": 0.9}), EventKind.COMMENT_CREATED, remove_threats).action == ModerationAction.DELETE
    assert decide_outcome(findings({"threat": 0.95}, {"threat": 0.9}), EventKind.DM_RECEIVED, remove_threats).action == ModerationAction.REVIEW
    assert decide_outcome(findings({"scam": 0.95}, {"scam": 0.9}), EventKind.DM_RECEIVED, remove_scams.default).action == ModerationAction.ALLOW


def test_the_model_never_lowers_what_the_rules_decided():
    deleted = findings({"threat": 0.01, "attack": 0.02}, text="Din jävla idiot")
    result = decide_outcome(deleted, EventKind.COMMENT_CREATED, BOOK.default)
    assert result.action == ModerationAction.DELETE and result.model_hits == ()


def test_the_default_policy_hides_certified_scams_and_hate_and_leaves_threats_and_attacks_to_a_reviewer():
    """The default lists scam and hate (hidden, as the rules hide them; each acts only while the model
    file certifies it); the override `model_deletes_threats` deletes certified threats too; attacks
    are never removed on the model's word (docs/moderation.md, "The second opinion")."""
    assert BOOK.default.model.remove == {"scam": ModerationAction.HIDE, "hate": ModerationAction.HIDE}
    certain_threat = findings({"threat": 0.95}, {"threat": 0.92, "attack": 0.95})
    assert decide_outcome(certain_threat, EventKind.COMMENT_CREATED, BOOK.default).action == ModerationAction.REVIEW
    deleted = decide_outcome(certain_threat, EventKind.COMMENT_CREATED, BOOK.named("model_deletes_threats"))
    assert (deleted.action, deleted.block_author) == (ModerationAction.DELETE, False)  # the model never blocks
    attacked = decide_outcome(findings({"attack": 0.99}, {"attack": 0.95}), EventKind.COMMENT_CREATED,
                              BOOK.named("model_deletes_threats"))
    assert attacked.action == ModerationAction.REVIEW
    hidden = decide_outcome(findings({"hate": 0.97}, {"hate": 0.94}), EventKind.COMMENT_CREATED, BOOK.default)
    assert (hidden.action, hidden.block_author) == (ModerationAction.HIDE, False)
    assert decide_outcome(findings({"hate": 0.9}, {"hate": 0.94}), EventKind.COMMENT_CREATED, BOOK.default).action == ModerationAction.REVIEW
    assert decide_outcome(findings({"hate": 0.97}), EventKind.COMMENT_CREATED, BOOK.default).action == ModerationAction.REVIEW
    assert decide_outcome(findings({"hate": 0.97}, {"hate": 0.94}), EventKind.COMMENT_CREATED,
                          BOOK.named("review_first")).action == ModerationAction.REVIEW


def test_review_first_accounts_and_unknown_classes():
    assert BOOK.named("review_first").model.remove == {}
    with pytest.raises(ValueError, match="unknown model classes"):
        PolicyBook.from_data({"default": {"rules": {}, "model": {"review_at": {"sarcasm": 0.5}}}})
    with pytest.raises(ValueError, match="hide or delete"):
        PolicyBook.from_data({"default": {"rules": {}, "model": {"remove": {"scam": "review"}}}})


def test_every_decision_carries_speech_act_friendliness_and_the_models_opinion():
    classifier = Classifier()
    for text, act, friendly in [
        ("När öppnar simhallen efter jul?", SpeechAct.QUESTION, False),
        ("Tack för att ni lagade gatlyktan så snabbt! 🙏", SpeechAct.EXPRESSIVE, True),
        ("Hur svårt kan det vara att laga ett gupp?!", SpeechAct.QUESTION, False),
        ("Bussen var sen i morse igen.", SpeechAct.ASSERTION, False),
    ]:
        event = comment(text)
        decision = decide(event, classifier.classify_text(text), BOOK.default, decided_at=NOW)
        assert (decision.speech_act, decision.friendly) == (act, friendly), text
        assert decision.model is not None and set(decision.model.scores) == {"threat", "hate", "attack", "scam"}
        again = ModerationDecision.model_validate_json(decision.model_dump_json())
        assert again == decision


def test_a_friendly_word_in_a_removed_comment_is_not_a_like():
    text = "Tack för ingenting, din jävla idiot"
    decision = decide(comment(text), Classifier().classify_text(text), BOOK.default, decided_at=NOW)
    assert decision.action == ModerationAction.DELETE and decision.friendly is False


def test_decisions_written_before_issue_14_still_read():
    old = {
        "decision_id": "d", "event_id": "e", "platform": "facebook", "account_id": "a", "item_id": "i",
        "thread_id": "t", "item_kind": "comment.created", "action": "allow", "decided_at": "2026-03-02T09:00:00Z",
    }
    decision = ModerationDecision.model_validate(old)
    assert (decision.speech_act, decision.friendly, decision.model) == (None, None, None)


def test_a_question_held_as_possible_abuse_needs_no_answer_until_a_person_lets_it_stand():
    """The contact center does not answer what may be a threat; a question held for an unknown
    link still needs its answer, and one the reviewer allows gets it back (review.resolution_for)."""
    question = "Vet ni var kommunalrådet bor någonstans?"
    held = decide_outcome(findings({"threat": 0.8}, text=question), EventKind.COMMENT_CREATED, BOOK.default)
    assert held.action == ModerationAction.REVIEW and held.needs_answer is False and held.needs_answer_if_allowed is True
    plain = decide_outcome(findings({"threat": 0.1}, text=question), EventKind.COMMENT_CREATED, BOOK.default)
    assert plain.needs_answer is True
    link = RULES_ONLY.classify_text("När öppnar simhallen? Läs här: bit.ly/3kF9xQz")
    held_for_link = decide_outcome(link, EventKind.COMMENT_CREATED, BOOK.default)
    assert held_for_link.action == ModerationAction.REVIEW and held_for_link.needs_answer is True

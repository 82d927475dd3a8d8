"""The rules against the labelled evaluation set: the targets of issue 5 hold."""

from pathlib import Path

import pytest
from socialops_moderation.evaluation import TARGETS, load_items, run

DATA = Path(__file__).resolve().parent.parent / "data"
# dev: written first, rules tuned on it; holdout: written after the rules, then general fixes made
# from its mistakes (so no longer blind); blind: written last and never tuned on (README numbers).
# dev2: written to tune the threat/hate pattern families; blind2: written (and its baseline recorded,
# blind2_baseline.txt) before those rule changes, scored only at the end (blind2_after.txt).
FILES = [DATA / "eval_dev.jsonl", DATA / "eval_holdout.jsonl", DATA / "dev2.jsonl"]
BLIND = DATA / "eval_blind.jsonl"
BLIND2 = DATA / "blind2.jsonl"
# What the rules honestly reached on blind2 (39 of 42 threats): a floor, so a change that loses
# threat wordings fails here. Raise it only with a new untuned set, never by tuning on blind2.
BLIND2_THREAT_RECALL_FLOOR = 0.92


def test_the_set_is_big_and_covers_every_rule():
    items = load_items(*FILES)
    assert len(items) >= 400
    labelled = {r for i in items for r in i["expected_rules"]}
    for rule in ["abuse.hate", "abuse.threat", "abuse.personal_attack", "abuse.insult", "abuse.profanity",
                 "personal_data.personnummer", "personal_data.samordningsnummer", "personal_data.phone",
                 "personal_data.email", "personal_data.address", "personal_data.bank_account",
                 "links.blocked", "links.shortener", "links.unknown", "links.rumour",
                 "spam.repeat", "spam.campaign", "spam.flood", "spam.links", "questions.direct"]:
        assert rule in labelled, rule
    assert sum(1 for i in items if i["expected_action"] == "allow" and not i["expected_rules"]) >= 100


def test_targets_hold_on_the_evaluation_set():
    report, _ = run(load_items(*FILES))
    assert report.missed_targets() == {}, report.render()
    assert set(report.target_values()) == set(TARGETS)


def test_on_the_blind_set_nothing_is_removed_wrongly():
    """Recall on the untuned set is lower (README); removing the wrong comments must not happen."""
    report, _ = run(load_items(BLIND))
    assert report.actions["delete"].precision >= 0.95 and report.actions["hide"].precision >= 0.95, report.render()
    assert report.families["personal_data"].recall >= 0.90, report.render()


def test_on_blind2_removals_stay_precise_and_threat_recall_does_not_fall():
    """blind2: veiled, conditional and English threats, identity attacks and hard negatives
    ("vi ska krossa dem på lördag", quoted threats being reported, "ni kommer ångra er i valet")."""
    items = load_items(BLIND2)
    assert len(items) >= 120
    report, _ = run(items)
    assert report.actions["delete"].precision >= 0.95 and report.actions["hide"].precision >= 0.95, report.render()
    assert report.rules["abuse.threat"].recall >= BLIND2_THREAT_RECALL_FLOOR, report.render()
    assert report.families["personal_data"].recall >= 0.90, report.render()


# --- issue 14: the project's own city-page comments, RTP-LX and the forum sentences -------------
# Floors at what was reached (docs/moderation.md#evaluation), a little below it: a change that
# loses a family fails here. Raise them only with a new untuned set, never by tuning on `heldout`.
CITY = DATA / "city_comments.jsonl"
# round 2 (2026-12): written before its rule changes and retraining, a third of each held out
CITY2, CITY3 = DATA / "city_comments2.jsonl", DATA / "city_comments3.jsonl"
# round 3 (2026-12): written by someone who had seen neither the rules nor our data
CITY4, CITY5, CITY6 = DATA / "city_comments4.jsonl", DATA / "city_comments5.jsonl", DATA / "city_comments6.jsonl"
TRAINING = DATA.parent.parent / "training"


def _city(split: str, path: Path = CITY):
    import socialops_moderation.evaluation as evaluation

    items = [i for i in load_items(path) if i["split"] == split]
    _, decisions = run(items)
    return evaluation.city_report(split, items, decisions)


def test_city_comments_held_out_removals_stay_precise_and_recall_does_not_fall():
    report = _city("heldout")
    assert report.items >= 190
    assert report.allowable.removed <= 0.02, report.allowable
    assert report.allowable.reviewed <= 0.10, report.allowable
    assert report.harmful.removed >= 0.80 and report.harmful.seen >= 0.97, report.harmful
    assert report.threats_and_attacks.deleted >= 0.75, report.threats_and_attacks
    assert report.needs_answer.f1 >= 0.95


def test_round_two_held_out_comments_stay_precise_and_recall_does_not_fall():
    """Threats without a listed harm verb, attacks as noun phrases, and their hard negatives."""
    threats_and_attacks = _city("heldout", CITY2)
    assert threats_and_attacks.items >= 100
    assert threats_and_attacks.allowable.removed <= 0.03 and threats_and_attacks.allowable.reviewed <= 0.10, threats_and_attacks.allowable
    assert threats_and_attacks.harmful.removed >= 0.60 and threats_and_attacks.harmful.seen >= 0.90, threats_and_attacks.harmful
    assert threats_and_attacks.threats_and_attacks.deleted >= 0.55, threats_and_attacks.threats_and_attacks
    hard_negatives = _city("heldout", CITY3)
    assert hard_negatives.allowable.removed <= 0.04 and hard_negatives.allowable.reviewed <= 0.15, hard_negatives.allowable
    assert hard_negatives.harmful.removed >= 0.80 and hard_negatives.harmful.seen >= 0.95, hard_negatives.harmful


@pytest.mark.parametrize("path, removed, seen, deleted", [
    (CITY4, 0.45, 0.90, 0.22),
    (CITY5, 0.30, 0.82, 0.22),
    (CITY6, 0.35, 0.83, 0.20),
    (DATA / "city_comments7.jsonl", 0.38, 0.90, 0.28),
    (DATA / "city_comments8.jsonl", 0.42, 0.80, 0.28),
    (DATA / "city_comments9.jsonl", 0.45, 0.85, 0.45),
])
def test_comments_written_by_someone_else_stay_precise_and_recall_does_not_fall(path, removed, seen, deleted):
    """The held-out thirds of city_comments4–9 (written by people who had seen neither the rules nor
    our data): floors a little under round 3's figures (docs/moderation.md#evaluation), low because
    the figures are: 0.34–0.50 removed; the model sends most of the rest to a reviewer. (Reviewed:
    round 5's model sends 5 of city_comments6's 39 allowable comments to a reviewer, round 4's 4.)"""
    unseen = _city("heldout", path)
    assert unseen.items >= 60
    assert unseen.allowable.removed <= 0.05 and unseen.allowable.reviewed <= 0.13, unseen.allowable
    assert unseen.harmful.removed >= removed and unseen.harmful.seen >= seen, unseen.harmful
    assert unseen.threats_and_attacks.deleted >= deleted, unseen.threats_and_attacks


@pytest.mark.parametrize("number, removed, seen, deleted, wrongly_removed, reviewed", [
    (10, 0.28, 0.90, 0.33, 0.05, 0.18),
    (11, 0.40, 0.80, 0.45, 0.05, 0.18),
    (12, 0.55, 0.92, 0.60, 0.05, 0.18),
    (13, 0.42, 0.84, 0.15, 0.05, 0.18),
    (14, 0.62, 0.88, 0.50, 0.03, 0.08),
    (15, 0.58, 0.85, 0.52, 0.03, 0.08),
    (16, 0.62, 0.85, 0.50, 0.03, 0.08),
    (17, 0.62, 0.88, 0.47, 0.03, 0.08),
    (18, 0.60, 0.85, 0.44, 0.03, 0.08),
    (19, 0.53, 0.88, 0.52, 0.03, 0.10),
    (20, 0.62, 0.90, 0.44, 0.05, 0.08),
    (21, 0.36, 0.80, 0.24, 0.03, 0.10),
    (22, 0.74, 0.92, 0.65, 0.05, 0.08),
    (23, 0.57, 0.88, 0.43, 0.03, 0.08),
    (24, 0.60, 0.90, 0.46, 0.03, 0.05),
    (25, 0.54, 0.92, 0.46, 0.03, 0.05),
])
def test_rounds_four_to_seven_comments_written_by_someone_else_stay_precise(number, removed, seen, deleted,
                                                                             wrongly_removed, reviewed):
    """The held-out thirds of city_comments10–13 (round 4, 2026-12-03), 14–17 (round 5), 18–21
    (round 6, both 2026-12-04) and 22–25 (round 7, 2026-12-05), each four more helpers who read
    neither the rules nor the data:
    floors a little under the figures after their round's changes, which were made from their
    `train` parts only (before: city_comments{N}_baseline.txt). Round 4's rules wrongly remove 2 of
    60 and 1 of 40 allowable comments in two of its sets and the model sends up to 15 % of one
    set's to a reviewer; in round 5's, the rules wrongly remove 1 of city_comments14's 47; in round
    6's, 1 of city_comments18's 45 and 2 of city_comments20's 42; in round 7's, 2 of
    city_comments22's 48 and 1 of city_comments25's 42."""
    unseen = _city("heldout", DATA / f"city_comments{number}.jsonl")
    assert unseen.items >= 60
    assert unseen.allowable.removed <= wrongly_removed and unseen.allowable.reviewed <= reviewed, unseen.allowable
    assert unseen.harmful.removed >= removed and unseen.harmful.seen >= seen, unseen.harmful
    assert unseen.threats_and_attacks.deleted >= deleted, unseen.threats_and_attacks


def test_the_rules_learnt_city_comments4_train():
    learnt = _city("train", CITY4)
    assert learnt.allowable.removed == 0.0 and learnt.harmful.removed >= 0.85, learnt.harmful
    assert learnt.threats_and_attacks.deleted >= 0.80, learnt.threats_and_attacks


def test_city_comments_train_is_learnt():
    report = _city("train")
    assert report.allowable.removed == 0.0 and report.harmful.removed >= 0.95 and report.needs_answer.f1 >= 0.95


def test_rtplx_clean_text_is_not_removed_and_forum_questions_are_recognised():
    import gzip
    import json

    from socialops_moderation.evaluation import decide_texts, speech_act_report, toxicity_report
    from socialops_moderation.learned.build import _third

    rows = [json.loads(line) for line in gzip.open(TRAINING / "rtplx-sv-dev.jsonl.gz", "rt", encoding="utf-8")]
    toxicity = toxicity_report("rtplx", rows, decide_texts([r["text"] for r in rows]))
    assert toxicity.clean.removed <= 0.02 and toxicity.clearly_toxic.removed >= 0.50, toxicity
    held_out_rows = [r for r in rows if _third(r["text"]) == 0]
    held_out = toxicity_report("rtplx held out", held_out_rows, decide_texts([r["text"] for r in held_out_rows]))
    # 0.80 with round 2's model, 0.74 with round 3's: its review thresholds rose (attack and hate 0.3–0.35 →
    # 0.4) by the same rule (at most 1 % of allowable city comments reviewed out of fold)
    assert held_out.clearly_toxic.seen >= 0.72 and held_out.clean.removed <= 0.02, held_out
    sentences = [json.loads(line) for line in gzip.open(TRAINING / "speech-acts-sv-dev.jsonl.gz", "rt", encoding="utf-8")]
    held_out = [s for s in sentences if _third(s["text"]) == 0]
    acts = speech_act_report("forum", held_out, decide_texts([s["text"] for s in held_out]))
    assert acts.per_act["question"].f1 >= 0.88, acts.per_act["question"]


def test_needs_answer_pooled_over_the_held_out_parts():
    """Issue 14's target is `needs_answer` F1 ≥ 0.90 on city-page comments. Pooled over the
    held-out parts of the city sets, `eval_blind` and `blind2` (never trained or tuned on): 0.889
    after round 6 (2026-12-04; without city_comments18–21 0.903 with round 5's answer head, 0.876
    without the head); after round 7 (2026-12-05) 0.896 over the same 23 parts and 0.874 with
    city_comments22–25's, whose writers mark more reports and complaints as needing an answer (0.754
    over their held-out thirds); the floor is a little under. Missed."""
    items = [i for n in ("", *range(2, 26))
             for i in load_items(DATA / f"city_comments{n}.jsonl") if i["split"] == "heldout"]
    items += load_items(BLIND, BLIND2)
    _, decisions = run(items)
    pairs = [(bool(i["needs_answer"]), d.needs_answer) for i, d in zip(items, decisions, strict=True)]
    tp = sum(t and p for t, p in pairs)
    precision, recall = tp / sum(p for _, p in pairs), tp / sum(t for t, _ in pairs)
    assert 2 * precision * recall / (precision + recall) >= 0.86, (precision, recall)

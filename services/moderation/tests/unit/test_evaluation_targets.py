"""The rules against the labelled evaluation set: the targets of issue 5 hold."""

from pathlib import Path

from socialops_moderation.evaluation import TARGETS, load_items, run

DATA = Path(__file__).resolve().parent.parent / "data"
# dev: written first, rules tuned on it; holdout: written after the rules, then general fixes made
# from its mistakes (so no longer blind); blind: written last and never tuned on (README numbers).
FILES = [DATA / "eval_dev.jsonl", DATA / "eval_holdout.jsonl"]
BLIND = DATA / "eval_blind.jsonl"


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

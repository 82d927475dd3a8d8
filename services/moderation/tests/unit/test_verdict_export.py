"""Reviewers' verdicts as labelled comments: what a row holds and leaves out, and that the build
reads them when asked (learned/verdicts.py, learned/build.py --reviewed)."""

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from socialops_common.events import (
    Actor,
    EventKind,
    ModelOpinion,
    ModerationAction,
    ModerationDecision,
    Platform,
    RuleHit,
)
from socialops_moderation.learned import build, verdicts

SERVICE = Path(__file__).resolve().parents[2]
AT = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)  # 1 December in Stockholm


def queued(text: str, *hits: tuple[str, float], kind: EventKind = EventKind.COMMENT_CREATED, n: int = 0) -> ModerationDecision:
    return ModerationDecision(
        decision_id=f"d-{n}", event_id=f"e-{n}", platform=Platform.FACEBOOK, account_id="page-1", item_id=f"i-{n}",
        thread_id="t", author_id="citizen-42", item_kind=kind, action=ModerationAction.REVIEW,
        rules=[RuleHit(rule_id=r, clause="seed", confidence=c) for r, c in hits], masked_text=text,
        model=ModelOpinion(version="linear-abc", scores={}), decided_at=AT)


def verdict(original: ModerationDecision, action: ModerationAction, later: int = 0) -> ModerationDecision:
    return original.model_copy(update={
        "decision_id": f"v-{original.decision_id}-{later}", "action": action, "supersedes": original.decision_id,
        "decided_by": "Louise kommunikatör", "reason": "Påhopp på namngiven handläggare",
        "reviewer": Actor(subject="louise", name="Louise kommunikatör"), "decided_at": AT + timedelta(minutes=later)})


def test_an_allowed_comment_is_an_allowable_row_and_a_removal_carries_its_class():
    allowed = queued("Vilken usel planering av Stortorget.", ("model.attack", 0.41), n=1)
    removed = queued("Du borde inte få gå ute, din råtta.", ("model.threat", 0.55), ("model.attack", 0.62), n=2)
    result = verdicts.export([(allowed, verdict(allowed, ModerationAction.ALLOW)),
                              (removed, verdict(removed, ModerationAction.DELETE))])
    rows = {r["text"]: r for r in result.rows}
    assert (rows[allowed.masked_text]["expected_action"], rows[allowed.masked_text]["harm"]) == ("allow", None)
    # among the model's classes, the one it scored highest
    assert (rows[removed.masked_text]["expected_action"], rows[removed.masked_text]["harm"]) == ("delete", "attack")
    assert rows[removed.masked_text]["reviewed_on"] == "2026-12-01"  # the day in Stockholm
    assert rows[removed.masked_text]["model_version"] == "linear-abc"
    # what the build needs from a labelled comment: its classes and split
    assert build.city_harm(rows[removed.masked_text]) == {"attack"}
    assert build.city_harm(rows[allowed.masked_text]) == set()
    written = json.dumps(result.rows, ensure_ascii=False)
    assert "citizen-42" not in written and "Louise" not in written and "Påhopp" not in written


def test_a_rules_class_comes_before_the_models_and_a_classless_removal_is_left_out():
    hate = queued("De där är ohyra allihop.", ("abuse.hate", 0.6), ("model.attack", 0.9), n=3)
    link = queued("Läs här: bit.ly/x1", ("links.shortener", 1.0), n=4)
    sworn = queued("Fan fan fan", ("abuse.profanity", 0.9), n=6)
    message = queued("Mitt personnummer är [personnummer]", ("personal_data.personnummer", 0.9),
                     kind=EventKind.DM_RECEIVED, n=5)
    result = verdicts.export([(hate, verdict(hate, ModerationAction.HIDE)), (link, verdict(link, ModerationAction.HIDE)),
                              (sworn, verdict(sworn, ModerationAction.HIDE)),
                              (message, verdict(message, ModerationAction.ALLOW))])
    rows = {r["text"]: r for r in result.rows}
    assert (rows[hate.masked_text]["harm"], rows[link.masked_text]["harm"]) == ("hate", "links")
    # a link removed is, for the model, a comment without threat, attack, hate or scam
    assert build.city_harm(rows[link.masked_text]) == set()
    assert result.left_out == {"removed for a reason no class names": 1, "not a public comment": 1}


def test_the_latest_verdict_on_a_text_stands_and_the_split_is_the_labelled_sets_hash():
    first = queued("Hoppas någon sätter eld på ditt hus.", ("model.threat", 0.7), n=6)
    again = queued("Hoppas någon sätter eld på ditt hus.", ("model.threat", 0.7), n=7)  # posted twice
    result = verdicts.export([(again, verdict(again, ModerationAction.DELETE, later=5)),
                              (first, verdict(first, ModerationAction.ALLOW))])
    assert [(r["expected_action"], r["harm"]) for r in result.rows] == [("delete", "threat")]
    assert result.left_out == {"an earlier verdict on the same text": 1}
    texts = [f"Kommentar nummer {n} om snöröjningen" for n in range(300)]
    heldout = [t for t in texts if verdicts.heldout_third(t)]
    assert 80 < len(heldout) < 120 and all(build._third(t) == 0 for t in heldout)


def test_the_build_trains_on_exported_verdicts_and_names_their_file(tmp_path):
    root = tmp_path / "moderation"
    shutil.copytree(SERVICE / "tests" / "data", root / "tests" / "data")
    shutil.copytree(SERVICE / "training", root / "training")
    before = build.load_corpus(root)
    texts = [f"Du är en {word} och borde skämmas" for word in ("tjockskalle", "kålhuvud", "fähund", "träskalle",
                                                                 "dumskalle", "pucko")]
    pairs = []
    for n, text in enumerate(texts):
        original = queued(text, ("model.attack", 0.6), n=10 + n)
        pairs.append((original, verdict(original, ModerationAction.DELETE)))
    exported = verdicts.export(pairs)
    reviewed = tmp_path / "verdicts"
    verdicts.write_jsonl(exported.rows, reviewed / "2026-12.jsonl")
    assert build.load_corpus(root).files == before.files  # the packaged model's build never reads them
    after = build.load_corpus(root, reviewed)
    assert str(reviewed / "2026-12.jsonl") in after.files
    added = [e for e in after.harm_train + after.harm_heldout if e.source == "reviewed/2026-12"]
    assert sorted(e.text for e in added) == sorted(texts) and all(e.harm == {"attack"} for e in added)
    trained = sum(1 for r in exported.rows if r["split"] == "train")
    assert len(after.harm_train) == len(before.harm_train) + trained
    assert len(after.harm_heldout) == len(before.harm_heldout) + len(texts) - trained


def test_a_citys_own_model_file_replaces_the_packaged_one(tmp_path):
    import gzip

    from socialops_moderation.main import build_moderator
    from socialops_moderation.settings import ModerationSettings

    packaged = json.loads(gzip.decompress((SERVICE / "src" / "socialops_moderation" / "data" / "model.json.gz").read_bytes()))
    own = tmp_path / "model.json.gz"
    own.write_bytes(gzip.compress(json.dumps({**packaged, "version": "linear-helsingborg"}).encode()))
    moderator = build_moderator(ModerationSettings(moderation_model_file=str(own)))
    assert moderator.classifier.model.version == "linear-helsingborg"
    assert build_moderator(ModerationSettings()).classifier.model.version == packaged["version"]

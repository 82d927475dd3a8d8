"""Moderation against every labelled set: per set and class, what is removed, reviewed, wrongly removed.

    .venv/bin/python bench/moderation_eval.py [--rules] [--mistakes SET] [--check]

Issue 14's figures, each for the rules alone and for rules + the second opinion (default policy):
- city-page sets (services/moderation/tests/data): per set, and pooled over the held-out parts,
  per class the share removed (hide/delete: the
  removal recall), sent to review, and for threats and attacks deleted; for allowable comments the
  share wrongly removed and sent to review, per category; needs_answer F1; speech_act == question
  F1 and friendliness where labelled. `city_comments` is reported by split: `train` (the model
  trained and the rules were tuned on it) and `heldout` (never tuned on).
- RTP-LX Swedish dev (services/moderation/training): clearly toxic (toxicity ≥ 2.5 and identity
  attack, violence or insult ≥ 2) removed / removed or reviewed, clean (< 1.5) wrongly removed and
  reviewed; the two thirds the model trained on and the third held out.
- the speech-act forum sentences: P/R/F1 per speech act, two thirds trained on, one third held out.
- the model's calibration: a reliability table per class on the held-out data (city_comments
  heldout, eval_blind, blind2, RTP-LX held-out third) and on the training data.
`--rules` adds the per-rule precision/recall report of issue 5 (targets: `--check` exits 1 on a miss).
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

from socialops_moderation.consumer import Moderator
from socialops_moderation.evaluation import (
    CitySetReport,
    Shares,
    city_report,
    decide_texts,
    evaluation_moderator,
    load_items,
    reliability_table,
    run,
    speech_act_report,
    toxicity_report,
)
from socialops_moderation.learned.build import _third, city_harm, rtplx_harm

SERVICE = Path(__file__).resolve().parent.parent / "services" / "moderation"
DATA, TRAINING = SERVICE / "tests" / "data", SERVICE / "training"
# (name, file, split or None, how it was used)
CITY_SETS = [
    ("city_comments/train", "city_comments.jsonl", "train", "model trained, rules tuned on it"),
    ("city_comments/heldout", "city_comments.jsonl", "heldout", "never tuned on"),
    ("eval_dev", "eval_dev.jsonl", None, "rules tuned on it (issue 5), model trained"),
    ("eval_holdout", "eval_holdout.jsonl", None, "rules fixed from it (issue 5), model trained"),
    ("dev2", "dev2.jsonl", None, "threat/hate families tuned on it, model trained"),
    ("eval_blind", "eval_blind.jsonl", None, "not trained on"),
    ("blind2", "blind2.jsonl", None, "not trained on"),
    ("city_comments2/train", "city_comments2.jsonl", "train", "round 2: model trained, rules tuned on it"),
    ("city_comments2/heldout", "city_comments2.jsonl", "heldout", "round 2: never tuned on"),
    ("city_comments3/train", "city_comments3.jsonl", "train", "round 2, hard negatives: model trained on it"),
    ("city_comments3/heldout", "city_comments3.jsonl", "heldout", "round 2, hard negatives: never tuned on"),
    ("city_comments4/train", "city_comments4.jsonl", "train", "round 3, written by someone else: model trained on it"),
    ("city_comments4/heldout", "city_comments4.jsonl", "heldout", "round 3, written by someone else: never tuned on"),
    ("city_comments5/train", "city_comments5.jsonl", "train", "round 3, written by someone else: model trained; rules mended for its wrongful removals only"),
    ("city_comments5/heldout", "city_comments5.jsonl", "heldout", "round 3, written by someone else: never tuned on"),
    ("city_comments6/train", "city_comments6.jsonl", "train", "round 3, written by someone else: model trained; rules mended for its wrongful removals only"),
    ("city_comments6/heldout", "city_comments6.jsonl", "heldout", "round 3, written by someone else: never tuned on"),
    ("city_comments7/train", "city_comments7.jsonl", "train", "round 3, written by someone else: model trained, rules never tuned on it"),
    ("city_comments7/heldout", "city_comments7.jsonl", "heldout", "round 3, written by someone else: never tuned on"),
    ("city_comments8/train", "city_comments8.jsonl", "train", "round 3, written by someone else: model trained, rules never tuned on it"),
    ("city_comments8/heldout", "city_comments8.jsonl", "heldout", "round 3, written by someone else: never tuned on"),
    ("city_comments9/train", "city_comments9.jsonl", "train", "round 3, written by someone else: model trained, rules never tuned on it"),
    ("city_comments9/heldout", "city_comments9.jsonl", "heldout", "round 3, written by someone else: never tuned on"),
    *[(f"city_comments{n}/{split}", f"city_comments{n}.jsonl", split,
       "round 4, written by someone else: " + ("rules mended from it, model trained on it" if split == "train" else "never tuned on"))
      for n in (10, 11, 12, 13) for split in ("train", "heldout")],
    *[(f"city_comments{n}/{split}", f"city_comments{n}.jsonl", split,
       "round 5, written by someone else: " + ("rules mended from it, model trained on it" if split == "train" else "never tuned on"))
      for n in (14, 15, 16, 17) for split in ("train", "heldout")],
    *[(f"city_comments{n}/{split}", f"city_comments{n}.jsonl", split,
       "round 6, written by someone else: " + ("model trained on it, rules mended from it for spoken questions only" if split == "train" else "never tuned on"))
      for n in (18, 19, 20, 21) for split in ("train", "heldout")],
    *[(f"city_comments{n}/{split}", f"city_comments{n}.jsonl", split,
       "round 7, written by someone else: " + ("model trained on it, rules mended from it" if split == "train" else "never tuned on"))
      for n in (22, 23, 24, 25) for split in ("train", "heldout")],
]


HELD_OUT_SETS = ("city_comments/heldout", "city_comments2/heldout", "city_comments3/heldout", "city_comments4/heldout",
                 "city_comments5/heldout", "city_comments6/heldout", "eval_blind", "blind2", "city_comments7/heldout", "city_comments8/heldout", "city_comments9/heldout",
                 "city_comments10/heldout", "city_comments11/heldout", "city_comments12/heldout", "city_comments13/heldout",
                 "city_comments14/heldout", "city_comments15/heldout", "city_comments16/heldout", "city_comments17/heldout",
                 "city_comments18/heldout", "city_comments19/heldout", "city_comments20/heldout", "city_comments21/heldout",
                 "city_comments22/heldout", "city_comments23/heldout", "city_comments24/heldout", "city_comments25/heldout")
# the held-out parts as they were before round 5 (2026-12-04), to compare with the figures quoted until then
HELD_OUT_SETS_ROUND_4 = HELD_OUT_SETS[:15]
# and before round 7 (2026-12-05), to compare with the figures quoted on 2026-12-04
HELD_OUT_SETS_ROUND_6 = HELD_OUT_SETS[:23]
# the pools printed after the sets: (parts, title, what they are for)
POOLS = (
    (HELD_OUT_SETS, f"held-out parts pooled ({len(HELD_OUT_SETS)})", "the issue's figures on our own data: " + ", ".join(HELD_OUT_SETS)),
    (HELD_OUT_SETS_ROUND_4, f"the {len(HELD_OUT_SETS_ROUND_4)} held-out parts of round 4, pooled", "to compare with the figures quoted before round 5"),
    (HELD_OUT_SETS_ROUND_6, f"the {len(HELD_OUT_SETS_ROUND_6)} held-out parts of round 6, pooled", "to compare with the figures quoted before round 7"),
)


def moderators(policy: str | None = None) -> dict[str, Moderator]:
    try:
        return {"rules": evaluation_moderator(policy, with_model=False), "rules+model": evaluation_moderator(policy)}
    except ValueError as error:
        raise SystemExit(str(error)) from None


def _pct(value: float) -> str:
    return f"{value:.2f}"


def _share_cells(s: Shares, deleted: bool = False) -> str:
    cells = f"{s.n:>4} {_pct(s.removed):>7} {_pct(s.reviewed):>7} {_pct(s.seen):>7}"
    return cells + (f" {_pct(s.deleted):>7}" if deleted else "")


def print_city(reports: dict[str, CitySetReport], used: str) -> None:
    any_report = next(iter(reports.values()))
    print(f"\n## {any_report.name} ({any_report.items} comments; {used})")
    print(f"{'':<13}{'harmful: removed':>17} {'rem|rev':>8} {'thr+att deleted':>16} {'allowable: wrongly removed':>27} "
          f"{'reviewed':>9} {'needs_answer F1':>16} {'question F1':>12} {'friendly P/R':>13}")
    for who, r in reports.items():
        question = f"{r.question.f1:.2f}" if r.question else "–"
        friendly = f"{r.friendly.precision:.2f}/{r.friendly.recall:.2f}" if r.friendly else "–"
        print(f"{who:<13}{_pct(r.harmful.removed):>17} {_pct(r.harmful.seen):>8} {_pct(r.threats_and_attacks.deleted):>16} "
              f"{_pct(r.allowable.removed):>27} {_pct(r.allowable.reviewed):>9} {r.needs_answer.f1:>16.2f} {question:>12} {friendly:>13}")
    r = reports["rules+model"]
    rules_only = reports["rules"]
    print("  per class (rules+model; rules alone in brackets):   n  removed reviewed rem|rev deleted")
    for label, s in r.per_class.items():
        base = rules_only.per_class[label]
        print(f"    {label:<16} {_share_cells(s, True)}   ({_pct(base.removed)} {_pct(base.reviewed)})")
    if len(r.allowable_by_category) > 1:
        print("  allowable by category (rules+model):  n  removed reviewed")
        for label, s in r.allowable_by_category.items():
            print(f"    {label:<22} {s.n:>4} {_pct(s.removed):>7} {_pct(s.reviewed):>7}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rules", action="store_true", help="also the per-rule report (issue 5) on the old sets")
    parser.add_argument("--mistakes", metavar="SET", help="list what rules+model got wrong on this city set")
    parser.add_argument("--check", action="store_true", help="with --rules: exit 1 when an issue-5 target is missed")
    parser.add_argument("--policy", metavar="NAME", help="a policy override from policy.yaml instead of the default "
                        "(for every set: their comments are on one account that carries it)")
    args = parser.parse_args()
    who = moderators(args.policy)
    calibration: dict[str, dict[str, list[tuple[float, bool]]]] = {"held out": {}, "trained on": {}}

    def collect(pool: str, decisions: list, truths: list[set[str] | None]) -> None:
        for decision, truth in zip(decisions, truths, strict=True):
            if truth is None or decision.model is None:
                continue
            for label, p in decision.model.scores.items():
                calibration[pool].setdefault(label, []).append((p, label in truth))

    print(f"# Moderation: rules alone and rules + the second opinion, {args.policy or 'default'} policy")
    print("removed = hide or delete; rem|rev = removed or sent to review; per class n, shares of that class")
    # per pool, per moderator: the held-out parts' items and decisions together
    pooled: list[dict[str, tuple[list, list]]] = [{label: ([], []) for label in who} for _ in POOLS]
    for name, file, split, used in CITY_SETS:
        items = [i for i in load_items(DATA / file) if split is None or i.get("split") == split]
        reports = {}
        for label, moderator in who.items():
            _, decisions = run(items, moderator)
            reports[label] = city_report(name, items, decisions)
            for (parts, _, _), pool_of in zip(POOLS, pooled, strict=True):
                if name in parts:
                    pool_of[label][0].extend(items)
                    pool_of[label][1].extend(decisions)
            if label == "rules+model":
                pool = "held out" if name in HELD_OUT_SETS else "trained on"
                collect(pool, decisions, [city_harm(i) for i in items])
                if args.mistakes == name:
                    mistakes = [(i, d) for i, d in zip(items, decisions, strict=True) if i["expected_action"] != d.action.value]
        print_city(reports, used)
        if args.mistakes == name:
            for item, decision in mistakes:
                print(f"    {item['id']}: {item['expected_action']} → {decision.action.value} "
                      f"{[h.rule_id for h in decision.rules if h.rule_id != 'abuse.profanity']} {item['text'][:100]!r}")

    for (_, title, used), pool_of in zip(POOLS, pooled, strict=True):
        print_city({label: city_report(title, items, decisions) for label, (items, decisions) in pool_of.items()}, used)

    rows = [json.loads(line) for line in gzip.open(TRAINING / "rtplx-sv-dev.jsonl.gz", "rt", encoding="utf-8")]
    print("\n## RTP-LX Swedish dev (translated web text, 3 annotators)")
    print(f"{'':<26}{'clearly toxic: n':>17} {'removed':>8} {'rem|rev':>8} {'clean: n':>9} {'removed':>8} {'reviewed':>9}"
          f" {'mild: removed':>14}   toxic removed by category (IA / V / I)")
    for part, held in (("two thirds trained on", False), ("one third held out", True)):
        chosen = [r for r in rows if (_third(r["text"]) == 0) == held]
        for label, moderator in who.items():
            decisions = decide_texts([r["text"] for r in chosen], moderator)
            t = toxicity_report(part, chosen, decisions)
            c = t.by_category
            print(f"{part[:12] + ' ' + label:<26}{t.clearly_toxic.n:>17} {_pct(t.clearly_toxic.removed):>8} {_pct(t.clearly_toxic.seen):>8} "
                  f"{t.clean.n:>9} {_pct(t.clean.removed):>8} {_pct(t.clean.reviewed):>9} {_pct(t.mild.removed):>14}   "
                  f"{_pct(c['identity_attack'].removed)} / {_pct(c['violence'].removed)} / {_pct(c['insult'].removed)}")
            if label == "rules+model":
                collect("held out" if held else "trained on", decisions, [rtplx_harm(r) for r in chosen])

    acts = [json.loads(line) for line in gzip.open(TRAINING / "speech-acts-sv-dev.jsonl.gz", "rt", encoding="utf-8")]
    print("\n## Speech acts: forum sentences (Familjeliv, Flashback), rules + model")
    print(f"{'':<24}" + "".join(f"{a:>22}" for a in ("question", "directive", "expressive", "assertion")) + f"{'needs_answer vs question':>28}")
    for part, held in (("two thirds trained on", False), ("one third held out", True)):
        chosen = [r for r in acts if (_third(r["text"]) == 0) == held]
        report = speech_act_report(part, chosen, decide_texts([r["text"] for r in chosen], who["rules+model"]))
        cells = "".join(f"{f'{s.precision:.2f}/{s.recall:.2f} F1 {s.f1:.2f}':>22}" for s in report.per_act.values())
        na = report.needs_answer_vs_question
        print(f"{part:<24}{cells}{f'{na.precision:.2f}/{na.recall:.2f} F1 {na.f1:.2f}':>28}")

    print("\n## The model's calibration (reliability: per probability bin, n, mean predicted, share truly in the class)")
    for pool, per_class in calibration.items():
        print(f"{pool}:")
        for label, pairs in sorted(per_class.items()):
            cells = "  ".join(f"{b} n={n} p={p:.2f} obs={o:.2f}" for b, n, p, o in reliability_table(pairs))
            print(f"  {label:<7} {cells}")

    if args.rules:
        items = load_items(*sorted(DATA.glob("eval_*.jsonl")), DATA / "dev2.jsonl", DATA / "blind2.jsonl")
        report, _ = run(items, who["rules+model"])
        print("\n## Per rule (issue 5 sets: eval_*, dev2, blind2), rules + model\n" + report.render())
        if args.check and report.missed_targets():
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

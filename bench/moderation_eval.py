"""Moderation rules against the labelled evaluation set: per-rule precision/recall, confusion table.

    .venv/bin/python bench/moderation_eval.py [--mistakes] [--split dev|holdout|blind|dev2|blind2] [--check] [files…]

Default files: services/moderation/tests/data/eval_*.jsonl (dev 412, holdout 150, blind 54) plus
dev2.jsonl (100, written for tuning the threat/hate families) and blind2.jsonl (135, written before
those rule changes and never tuned on). Each split is also scored on its own. Targets (issue 5): precision ≥ 0.95 for
delete and hide, recall ≥ 0.90 for personal data and threats, question (needs_answer) F1 ≥ 0.85.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from socialops_moderation.evaluation import load_items, run

DATA = Path(__file__).resolve().parent.parent / "services" / "moderation" / "tests" / "data"
SPLITS = ("dev", "holdout", "blind", "dev2", "blind2")
DEFAULT_FILES = [*sorted(DATA.glob("eval_*.jsonl")), DATA / "dev2.jsonl", DATA / "blind2.jsonl"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", default=[str(p) for p in DEFAULT_FILES])
    parser.add_argument("--split", choices=SPLITS, help="only items of this split")
    parser.add_argument("--mistakes", action="store_true", help="list every item the rules got wrong")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    items = load_items(*args.files)
    if args.split:
        items = [i for i in items if i.get("split") == args.split]
    print(f"files: {', '.join(Path(f).name for f in args.files)}" + (f"  split: {args.split}" if args.split else ""))
    report, _ = run(items)
    print(report.render())
    if args.mistakes:
        print("\nmistakes (expected → predicted: action, rules, needs_answer):")
        for m in report.mistakes:
            print(f"  {m['id']}: {m['text'][:90]!r}\n      {m['expected']} → {m['predicted']}")
    if len(args.files) > 1 and not args.split:
        for split in SPLITS:
            part = [i for i in items if i.get("split") == split]
            if part:
                values = run(part)[0].target_values()
                print(f"{split:<8} n={len(part):<4}" + "  ".join(f"{k} {v:.2f}" for k, v in values.items()))
    return 1 if args.check and report.missed_targets() else 0


if __name__ == "__main__":
    sys.exit(main())

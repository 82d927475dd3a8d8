"""Would a small trained model beat the rules? Trained on the labelled sets, scored on the blind one.

    .venv/bin/python bench/moderation_model.py

A character n-gram TF-IDF + logistic regression (scikit-learn) is trained on eval_dev + eval_holdout
(spam sequences left out: they need history) and evaluated only on eval_blind, which neither the
model nor the rules were tuned on; the rules are scored on the same items. Nothing is shipped from
this: the model is an experiment (see docs/moderation.md).
"""

from __future__ import annotations

from pathlib import Path

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_recall_fscore_support
from socialops_moderation.evaluation import ACTIONS, load_items, run

DATA = Path(__file__).resolve().parent.parent / "services" / "moderation" / "tests" / "data"


def main() -> int:
    train = [i for i in load_items(DATA / "eval_dev.jsonl", DATA / "eval_holdout.jsonl") if "author" not in i]
    test = [i for i in load_items(DATA / "eval_blind.jsonl") if "author" not in i]
    vectoriser = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)
    features = vectoriser.fit_transform([i["text"] for i in train])
    held_out = vectoriser.transform([i["text"] for i in test])
    print(f"trained on {len(train)}, scored on {len(test)} blind items")
    for target, labels in (("expected_action", list(ACTIONS)), ("needs_answer", ["True"])):
        model = LogisticRegression(max_iter=2000, C=10, class_weight="balanced")
        model.fit(features, [str(i[target]) for i in train])
        truth = [str(i[target]) for i in test]
        precision, recall, _, support = precision_recall_fscore_support(
            truth, model.predict(held_out), labels=labels, zero_division=0
        )
        for label, p, r, n in zip(labels, precision, recall, support, strict=True):
            print(f"  model {target:<16}{label:<8} precision {p:.2f} recall {r:.2f} (n={n})")
    report, _ = run(test)
    for action in ACTIONS:
        scores = report.actions[action]
        print(f"  rules expected_action   {action:<8} precision {scores.precision:.2f} recall {scores.recall:.2f}")
    print(f"  rules needs_answer      True     precision {report.needs_answer.precision:.2f} recall {report.needs_answer.recall:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

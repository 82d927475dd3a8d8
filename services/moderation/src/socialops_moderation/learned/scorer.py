"""The exported model, scored in plain Python: dict look-ups over the comment's features, one sum.

The model file (`data/model.json.gz`, built by `learned/build.py`) holds the feature table
(feature → one weight per output), per head its bias and how scores become probabilities, and the
provenance of the build. Heads:

- `harm`: one binary classifier per class (threat, hate, attack, scam): sigmoid of the linear score,
  then the Platt calibration fitted on cross-validation folds: p = 1 / (1 + exp(a·score + b)).
  Per class the file says whether the model may remove on its own (`removal`: the threshold at which
  its precision on held-out data was measured ≥ 0.95, else null).
- `speech_act`: one multinomial classifier (question, directive, expressive, assertion), softmax.
- `answer` (optional: files built before round 5 lack it): the probability that a comment needs an
  answer (sigmoid), and `veto_below`: where the rules find a question, below it the model says no.

Loading reads only the packaged file (no network). Scoring is deterministic: the features' rows are
summed in table order.
"""

from __future__ import annotations

import gzip
import json
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from .features import comment_features

MODEL_FILE = "model.json.gz"


@dataclass(frozen=True)
class Removal:
    threshold: float
    heldout_precision: float
    heldout_support: int


@dataclass(frozen=True)
class WeightedWord:
    label: str  # the class it weighed for
    start: int  # offsets into the folded text (the caller maps them to the original)
    end: int
    weight: float


@dataclass(frozen=True)
class Opinion:
    version: str
    harm: dict[str, float]  # calibrated probability per class
    speech_act: str
    speech_act_scores: dict[str, float]
    answer: float | None = None  # probability that it needs an answer; None: the file has no such head
    words: tuple[WeightedWord, ...] = ()  # the words that weighed most, for the classes asked for


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


class Model:
    def __init__(self, data: dict[str, Any]) -> None:
        self.version: str = data["version"]
        self.provenance: dict[str, Any] = data.get("provenance", {})
        self.index: dict[str, int] = {name: i for i, name in enumerate(data["features"])}
        # float32 halves what each comment's gather reads; the sums still agree with scikit-learn's
        # float64 to far better than the 1e-4 the test asks
        self.weights = np.asarray(data["weights"], dtype=np.float32)
        harm = data["heads"]["harm"]
        self.harm_classes: tuple[str, ...] = tuple(harm["classes"])
        self.harm_columns = list(harm["columns"])
        self.harm_bias = [float(b) for b in harm["bias"]]
        self.calibration = [(float(harm["calibration"][c]["a"]), float(harm["calibration"][c]["b"])) for c in self.harm_classes]
        self.removal: dict[str, Removal | None] = {
            c: (Removal(float(r["threshold"]), float(r["heldout_precision"]), int(r["heldout_support"])) if r else None)
            for c, r in harm.get("removal", {}).items()
        }
        acts = data["heads"]["speech_act"]
        self.act_classes: tuple[str, ...] = tuple(acts["classes"])
        self.act_columns = list(acts["columns"])
        self.act_bias = [float(b) for b in acts["bias"]]
        answer = data["heads"].get("answer")
        self.answer_column: int | None = int(answer["column"]) if answer else None
        self.answer_bias = float(answer["bias"]) if answer else 0.0
        self.answer_veto_below = float(answer["veto_below"]) if answer else 0.0

    @classmethod
    def load(cls, path: str | Path | None = None) -> Model:
        raw = Path(path).read_bytes() if path else resources.files("socialops_moderation").joinpath("data", MODEL_FILE).read_bytes()
        return cls(json.loads(gzip.decompress(raw)))

    def linear(self, folded: str) -> tuple[np.ndarray, float]:
        """The raw linear score of every output (before bias) and the feature scale 1/sqrt(k)."""
        names = comment_features(folded).names
        get = self.index.get
        rows = [i for i in map(get, names) if i is not None]
        rows.sort()  # one summation order whatever the set order: the same bits in every process
        scale = 1.0 / math.sqrt(len(names)) if names else 0.0
        total = self.weights[rows].sum(axis=0, dtype=np.float64) if rows else np.zeros(self.weights.shape[1])
        return total * scale, scale

    def harm_probability(self, raw: float, column: int) -> float:
        a, b = self.calibration[column]
        return _sigmoid(-(a * (raw + self.harm_bias[column]) + b))

    def opinion(self, folded: str, explain: tuple[str, ...] | None = None, explain_at: float = 0.5) -> Opinion:
        """Scores for one folded comment; the weighed words for every harm class ≥ `explain_at`
        (or for the classes in `explain`)."""
        total, scale = self.linear(folded)
        harm = {c: self.harm_probability(float(total[col]), i)
                for i, (c, col) in enumerate(zip(self.harm_classes, self.harm_columns, strict=True))}
        logits = [float(total[col]) + b for col, b in zip(self.act_columns, self.act_bias, strict=True)]
        top = max(logits)
        exps = [math.exp(x - top) for x in logits]
        norm = sum(exps)
        acts = {c: e / norm for c, e in zip(self.act_classes, exps, strict=True)}
        act = max(self.act_classes, key=lambda c: (acts[c], -self.act_classes.index(c)))
        wanted = explain if explain is not None else tuple(c for c, p in harm.items() if p >= explain_at)
        words = self.weighed_words(folded, wanted, scale) if wanted else ()
        answer = _sigmoid(float(total[self.answer_column]) + self.answer_bias) if self.answer_column is not None else None
        return Opinion(self.version, harm, act, acts, answer, words)

    def vetoes_answer(self, opinion: Opinion) -> bool:
        """Whether the model says a question the rules found needs no answer."""
        return opinion.answer is not None and opinion.answer < self.answer_veto_below

    def weighed_words(self, folded: str, classes: tuple[str, ...], scale: float | None = None,
                      limit: int = 3) -> tuple[WeightedWord, ...]:
        """Per class, the words whose features pushed the score up most (a feature shared by
        several words is split between them), from one gather of the table."""
        found = comment_features(folded, with_sources=True)
        if scale is None:
            scale = 1.0 / math.sqrt(len(found.names)) if found.names else 0.0
        rows, owners, shares = [], [], []
        for name, sources in zip(found.names, found.sources, strict=True):
            row = self.index.get(name)
            if row is None or not sources:
                continue
            for word in sources:
                rows.append(row)
                owners.append(word)
                shares.append(1.0 / len(sources))
        if not rows:
            return ()
        columns = [self.harm_columns[self.harm_classes.index(label)] for label in classes]
        contributions = self.weights[np.asarray(rows)][:, columns] * (np.asarray(shares) * scale)[:, None]
        out: list[WeightedWord] = []
        for k, label in enumerate(classes):
            per_word = np.bincount(owners, weights=contributions[:, k], minlength=len(found.words))
            ranked = sorted(((float(w), -i) for i, w in enumerate(per_word) if w > 0), reverse=True)[:limit]
            for weight, negative_index in ranked:
                start, end = found.words[-negative_index]
                out.append(WeightedWord(label, start, end, round(weight, 3)))
        return tuple(out)


@cache
def packaged_model() -> Model | None:
    """The model shipped in the package, or None when it has not been built."""
    try:
        return Model.load()
    except FileNotFoundError:
        return None

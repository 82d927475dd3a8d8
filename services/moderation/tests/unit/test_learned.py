"""The second opinion: the exported scorer is the scikit-learn model, the packaged file is the one
the repo's data build, and what it tells a reviewer points at the comment's own words."""

import gzip
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from socialops_moderation.classify import Classifier
from socialops_moderation.learned import build
from socialops_moderation.learned.features import comment_features
from socialops_moderation.learned.scorer import MODEL_FILE, Model, packaged_model
from socialops_moderation.text import normalise

SERVICE = Path(__file__).resolve().parents[2]
PACKAGED = SERVICE / "src" / "socialops_moderation" / "data" / MODEL_FILE


@pytest.fixture(scope="module")
def small_build() -> tuple[build.Built, build.Corpus]:
    """A model trained on a slice of the repo's data (seconds, not the full build)."""
    corpus = build.load_corpus()
    train = build.Corpus(
        harm_train=corpus.harm_train[::3], harm_heldout=corpus.harm_heldout[::4],
        act_train=corpus.act_train[::4], act_heldout=corpus.act_heldout[::6],
        answer_train=corpus.answer_train[::2], answer_heldout=corpus.answer_heldout[::3], files=corpus.files,
    )
    return build.build_from(train), corpus


@pytest.mark.slow
def test_the_exported_scorer_gives_scikit_learns_probabilities(small_build):
    built, corpus = small_build
    model = Model(json.loads(json.dumps(built.model)))  # exactly what the file holds
    texts = [e.folded for e in corpus.harm_heldout[1::4]][:150]
    x = build.matrix([build.Example(t, "test", folded=t) for t in texts], built.index)
    for label, fitted in built.harm.items():
        expected = fitted.predict_proba(x)[:, 1]
        got = np.array([model.opinion(t, explain=()).harm[label] for t in texts])
        # weights are stored to 6 significant digits: agreement to 1e-4, not bit for bit
        assert np.abs(expected - got).max() < 1e-4, label
    acts = built.speech_act.predict(x)
    assert [model.opinion(t, explain=()).speech_act for t in texts] == list(acts)
    expected = built.answer.predict_proba(x)[:, 1]
    got = np.array([model.opinion(t, explain=()).answer for t in texts])
    assert np.abs(expected - got).max() < 1e-4, "answer"


def _hand_made_model(veto_below: float | None) -> Model:
    """A model file written by hand: one feature, "egentligen", pulls the answer head down."""
    heads = {"harm": {"classes": list(build.HARM_CLASSES), "columns": [0, 1, 2, 3], "bias": [-9.0] * 4,
                      "calibration": {c: {"a": -1.0, "b": 0.0} for c in build.HARM_CLASSES}, "removal": {}},
             "speech_act": {"classes": list(build.SPEECH_ACTS), "columns": [4, 5, 6, 7], "bias": [0.0] * 4}}
    if veto_below is not None:
        heads["answer"] = {"column": 8, "bias": 2.0, "veto_below": veto_below}
    return Model({"version": "linear-hand", "features": ["w:egentligen"], "heads": heads,
                  "weights": [[0.0] * 8 + [-40.0]]})


def test_the_answer_head_vetoes_a_question_the_rules_found_and_never_makes_one():
    rhetorical, plain, statement = "Vad gör ni egentligen hela dagarna?", "När öppnar badet?", "Egentligen är parken fin."
    with_veto = Classifier(model=_hand_made_model(0.25))
    assert not with_veto.classify_text(rhetorical).is_question
    assert "questions.direct" not in with_veto.classify_text(rhetorical).rule_ids()
    assert with_veto.classify_text(plain).is_question
    assert not with_veto.classify_text(statement).is_question  # a low score makes no question either
    # a file without the head (built before round 5), or a veto of 0, leaves the rules' answer
    for model in (_hand_made_model(None), _hand_made_model(0.0)):
        assert Classifier(model=model).classify_text(rhetorical).is_question
    assert _hand_made_model(None).opinion("vad gor ni egentligen").answer is None


def test_features_are_the_same_with_and_without_their_sources():
    folded = normalise("Hej! Du är en j@vla idiot, ring 070-123 45 67? www.example.com").text
    assert set(comment_features(folded).names) == set(comment_features(folded, with_sources=True).names)


def test_the_packaged_model_was_built_from_the_data_in_the_repo():
    """Changing labelled data without `make models` fails here: the file names what it was built from."""
    model = Model.load(PACKAGED)
    files = model.provenance["files"]
    assert set(files) >= {"training/rtplx-sv-dev.jsonl.gz", "training/speech-acts-sv-dev.jsonl.gz",
                          "tests/data/city_comments.jsonl", "tests/data/eval_dev.jsonl"}
    for name, digest in files.items():
        assert hashlib.sha256((SERVICE / name).read_bytes()).hexdigest() == digest, f"{name} changed: run `make models`"
    # the rules' data: removal is certified on what they leave standing
    assert model.provenance["rule_files"] == build.rule_files(), "a rules file (data or code) changed: run `make models`"
    # and a labelled set added to the build since is not missing from it
    assert set(files) == set(build.load_corpus().files), "the build reads other files now: run `make models`"
    assert PACKAGED.stat().st_size <= 20 * 1024 * 1024
    assert model.version.startswith("linear-")
    assert set(model.harm_classes) == {"threat", "hate", "attack", "scam"}
    # removal is recorded only with the held-out precision that allows it
    for label, removal in model.removal.items():
        assert removal is None or (removal.heldout_precision >= 0.95 and removal.heldout_support >= 10), label


def test_the_model_file_holds_provenance_and_is_reproducible_in_form():
    data = json.loads(gzip.decompress(PACKAGED.read_bytes()))
    assert data["provenance"]["built_by"] == "socialops_moderation.learned.build"
    assert data["provenance"]["seed"] == build.SEED
    assert len(data["features"]) == len(data["weights"]) == data["provenance"]["features"]


def test_the_weighed_words_are_words_of_the_comment_and_never_personal_data():
    classifier = Classifier()
    text = "Hoppas att någon kör över dig med bilen, ring mig på 070-123 45 67"
    findings = classifier.classify_text(text)
    assert findings.model is not None and findings.model.scores["threat"] >= 0.5
    threat_words = [w for w in findings.model.words if w.label == "threat"]
    assert threat_words
    phone = text.index("070")
    for word in threat_words:
        assert text[word.start:word.end].strip() and " " not in text[word.start:word.end]
        if word.start >= phone:
            assert word.term is None
        else:
            assert word.term == normalise(text[word.start:word.end]).text


def test_scoring_is_deterministic():
    model = packaged_model()
    assert model is not None
    folded = normalise("Invandrarna är som löss i den här stan").text
    assert model.opinion(folded) == model.opinion(folded)


def test_removal_is_certified_on_what_the_rules_leave_standing(small_build):
    """The model's removal acts only where the rules let a comment stand, so that is where its
    precision is measured (build.left_standing)."""
    examples = [build.Example(t, "test") for t in ("Jag ska döda dig i natt", "Vilken fin park ni har byggt",
                                                      "Hoppas du får cancer, din jävla idiot")]
    assert list(build.left_standing(examples)) == [False, True, False]
    built, _ = small_build
    for label, entry in built.report["harm"].items():
        measured = entry["heldout_left_standing_at_threshold"]
        if entry["removal"] is not None:  # certified: the figure it was certified on is that one
            assert (entry["removal"]["heldout_precision"], entry["removal"]["heldout_support"]) == (
                round(measured["precision"], 3), measured["support"]), label
    model = Model.load(PACKAGED)
    assert model.provenance["settings"]["removal_measured_on"] == "comments the rules leave standing"

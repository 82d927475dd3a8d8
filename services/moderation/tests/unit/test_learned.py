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
        act_train=corpus.act_train[::4], act_heldout=corpus.act_heldout[::6], files=corpus.files,
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
    assert model.provenance["rule_files"] == build.rule_files(), "a rules data file changed: run `make models`"
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

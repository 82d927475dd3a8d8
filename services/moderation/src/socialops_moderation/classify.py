"""What the rules and the model find in one text: every classifier run once, on one normalisation.

`Classifier.classify` is the whole of "reading a comment": abuse, personal data, links, scams, spam
and questions (the rules, the explainable first layer), then the learned second opinion
(`learned/`) on every comment, the speech act and whether the comment is friendly, plus the masked
text and the language. It does no I/O; only the spam tracker keeps state (per-process memory, see
rules/spam.py). What the findings lead to is the policy's business (`policy.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from socialops_common.events import ModelOpinion, RuleHit, SpeechAct, WeighedWord

from .learned.scorer import Model, Opinion, packaged_model
from .rules import CLAUSE_QUESTIONS, hit
from .rules.abuse import classify_abuse
from .rules.friendly import is_friendly
from .rules.links import LinkLists, classify_links, default_lists
from .rules.personal_data import PersonalDataConfig, classify_personal_data, mask
from .rules.questions import QuestionFinding, find_questions, is_report_to_city
from .rules.scams import classify_scams
from .rules.spam import SpamTracker
from .text import Normalised, normalise

# Classes the model explains (the words that weighed most) when their probability reaches this:
# the default policy's review threshold (explaining costs a second pass over the features).
EXPLAIN_AT = 0.5
REPORT_CONFIDENCE = 0.8  # three cues together (rules/questions.py, is_report_to_city)


@dataclass(frozen=True)
class Findings:
    hits: tuple[RuleHit, ...]
    is_question: bool
    language: str | None
    masked_text: str
    speech_act: SpeechAct | None = None
    friendly: bool = False
    model: ModelOpinion | None = None
    # classes the model file lets remove on their own, with the threshold measured for each
    removable: dict[str, float] = field(default_factory=dict)

    def rule_ids(self) -> set[str]:
        return {h.rule_id for h in self.hits}


def speech_act_of(question: QuestionFinding, opinion: Opinion | None, question_text: str = "") -> SpeechAct:
    """The rules' question finding wins (a direct question, or a rhetorical one with its question
    mark, is a question); else the model's speech act; with no model, a statement."""
    if question.spans or (question.rhetorical and "?" in question_text):
        return SpeechAct.QUESTION
    if opinion is None:
        return SpeechAct.ASSERTION
    return SpeechAct(opinion.speech_act)


def _model_opinion(opinion: Opinion, normalised: Normalised, personal: list[RuleHit]) -> ModelOpinion:
    hidden = [(s.start, s.end) for h in personal for s in h.spans]
    words = []
    for word in opinion.words:
        start, end = normalised.span(word.start, word.end)
        inside_personal_data = any(start < e and s < end for s, e in hidden)
        words.append(
            WeighedWord(label=word.label, start=start, end=end, weight=word.weight,
                        term=None if inside_personal_data else normalised.text[word.start : word.end])
        )
    return ModelOpinion(version=opinion.version, scores={c: round(p, 3) for c, p in opinion.harm.items()}, words=words)


@dataclass
class Classifier:
    personal_data: PersonalDataConfig = field(default_factory=PersonalDataConfig)
    links: LinkLists = field(default_factory=default_lists)
    spam: SpamTracker = field(default_factory=SpamTracker)
    # The second opinion; None runs the rules alone (the benchmark's reference, and a city that
    # has not built a model).
    model: Model | None = field(default_factory=packaged_model)

    def classify_text(self, text: str, normalised: Normalised | None = None) -> Findings:
        """Everything but spam (which needs the author's history): a pure function of the text."""
        normalised = normalised or normalise(text)
        hits: list[RuleHit] = []
        abuse = classify_abuse(text, normalised)
        hits += abuse
        personal = classify_personal_data(text, self.personal_data, normalised)
        hits += personal
        hits += classify_links(text, self.links, normalised)
        hits += classify_scams(text, normalised)
        question = find_questions(text, normalised)
        opinion = self.model.opinion(normalised.text, explain_at=EXPLAIN_AT) if self.model else None
        # The model may say a question the rules found needs no answer (rhetoric, a question to the
        # other commenters); it never makes one (learned/build.py, the needs-answer head).
        needs_answer = question.needs_answer and not (self.model and opinion and self.model.vetoes_answer(opinion))
        if needs_answer:
            hits.append(
                hit("questions.direct", CLAUSE_QUESTIONS, question.confidence, [(s, e, "question") for s, e in question.spans])
            )
        elif is_report_to_city(normalised):
            # someone reports a threat or abuse to the city: answered like a question (rules/questions.py)
            needs_answer = True
            hits.append(hit("questions.report", CLAUSE_QUESTIONS, REPORT_CONFIDENCE, [(0, len(text), "report")]))
        harmful = any(h.rule_id.startswith(("abuse.", "spam.")) and h.rule_id != "abuse.profanity" for h in hits)
        return Findings(
            tuple(hits), needs_answer, question.language, mask(text, personal),
            speech_act=speech_act_of(question, opinion, text),
            friendly=not harmful and is_friendly(text, normalised),
            model=_model_opinion(opinion, normalised, personal) if opinion else None,
            removable={c: r.threshold for c, r in self.model.removal.items() if r} if self.model else {},
        )

    def classify(
        self, text: str, *, account: str, author: str | None, event_id: str, item_id: str, at: datetime
    ) -> Findings:
        normalised = normalise(text)
        findings = self.classify_text(text, normalised)
        spam = self.spam.observe(
            account=account, author=author, event_id=event_id, item_id=item_id, text=text, at=at, normalised=normalised
        )
        if not spam:
            return findings
        return Findings(
            findings.hits + tuple(spam), findings.is_question, findings.language, findings.masked_text,
            findings.speech_act, False, findings.model, findings.removable,
        )

"""What the rules find in one text: every classifier run once, on one normalisation.

`Classifier.classify` is the whole of "reading a comment": abuse, personal data, links, spam and
questions, plus the masked text and the language. It does no I/O; only the spam tracker keeps
state (per-process memory, see rules/spam.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from socialops_common.events import RuleHit

from .rules import CLAUSE_QUESTIONS, hit
from .rules.abuse import classify_abuse
from .rules.links import LinkLists, classify_links, default_lists
from .rules.personal_data import PersonalDataConfig, classify_personal_data, mask
from .rules.questions import find_questions
from .rules.spam import SpamTracker
from .text import Normalised, normalise


@dataclass(frozen=True)
class Findings:
    hits: tuple[RuleHit, ...]
    is_question: bool
    language: str | None
    masked_text: str

    def rule_ids(self) -> set[str]:
        return {h.rule_id for h in self.hits}


@dataclass
class Classifier:
    personal_data: PersonalDataConfig = field(default_factory=PersonalDataConfig)
    links: LinkLists = field(default_factory=default_lists)
    spam: SpamTracker = field(default_factory=SpamTracker)

    def classify_text(self, text: str, normalised: Normalised | None = None) -> Findings:
        """Everything but spam (which needs the author's history): a pure function of the text."""
        normalised = normalised or normalise(text)
        hits: list[RuleHit] = []
        hits += classify_abuse(text, normalised)
        personal = classify_personal_data(text, self.personal_data)
        hits += personal
        hits += classify_links(text, self.links, normalised)
        question = find_questions(text, normalised)
        if question.needs_answer:
            hits.append(
                hit("questions.direct", CLAUSE_QUESTIONS, question.confidence, [(s, e, "question") for s, e in question.spans])
            )
        return Findings(tuple(hits), question.needs_answer, question.language, mask(text, personal))

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
        return Findings(findings.hits + tuple(spam), findings.is_question, findings.language, findings.masked_text)

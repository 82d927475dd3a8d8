"""Seeded, realistic Swedish traffic for the cities' accounts, as signed platform webhooks (pure).

What citizens and editors do on a city's accounts, in the proportions a busy municipal page sees:
questions (which must be answered), opinions and "gnäll" (which are not), praise, insults and
threats, personal data (checksum-valid personnummer, phone numbers, e-mail and street addresses),
links (official and misleading), spam repeated by one user, direct messages in and out, the city's
replies signed as Helsingborg's guideline recommends ("vänliga hälsningar, Louise kommunikatör",
seed 001, "Svara så fort som möjligt"), edits, deletions by authors and hides by the city.

The same seed gives the same deliveries, so tests and benchmarks can reuse the stream; every
delivery says how many canonical events it should produce.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from socialops_common.events import AccountRecord, Platform

from . import payloads as p

QUESTIONS = [
    "Hej! När öppnar badet i Råå igen efter renoveringen?",
    "Vilka tider har återvinningscentralen på lördagar?",
    "Hur ansöker jag om bygglov för ett uterum?",
    "Varför har ingen snöröjt på Drottninggatan än? När kommer plogbilen?",
    "Kan man få hjälp med ansökan om försörjningsstöd på engelska?",
    "När börjar anmälan till sommarlovsaktiviteterna?",
    "Var kan jag parkera med husbil nära Sofiero?",
    "Är biblioteket öppet på påskafton?",
    "Hur gör jag en felanmälan om en trasig gatlykta?",
    "Hur lång är kön till förskolan i Maria Park just nu?",
]
OPINIONS = [
    "Tycker det är fel att lägga ner fritidsgården. Barnen behöver den.",
    "Typiskt kommunen, pengar till konst men inte till skolan.",
    "Cykelbanorna blir bara sämre och sämre i den här stan.",
    "Bra initiativ, men det borde ha gjorts för länge sedan.",
    "Jag tycker parkeringsavgifterna är alldeles för höga i centrum.",
]
PRAISE = [
    "Tack för en fantastisk kulturnatt! 😍",
    "Så fin bild på Kärnan i solnedgången ❤️",
    "Stort tack till personalen på äldreboendet, ni gör ett otroligt jobb!",
]
INSULTS = [
    "Ni på kommunen är ena jävla idioter allihop.",
    "Vilken inkompetent klåpare till politiker, fy fan.",
    "Din fitta, håll käften om du inte vet vad du pratar om.",
    "Kommunalrådet är en korrupt svin som borde skämmas.",
]
THREATS = [
    "Om ni inte fixar vägen kommer jag och bränner ner hela stadshuset.",
    "Jag vet var handläggaren bor. Hon ska få sota för det här.",
    "Någon borde skjuta hela nämnden, ni förtjänar det.",
]
LINKS = [
    "Mer info finns här: https://helsingborg.se/trafik-och-stadsplanering/",
    "Läs sanningen om vaccinet som kommunen döljer: http://sanningen-om-allt.biz/vaccin",
    "Kolla in https://bit.ly/3xFake1 för gratis iPhone!!!",
    "Källa: https://www.krisinformation.se/",
]
SPAM = [
    "Tjäna 5000 kr om dagen hemifrån!!! Skriv till mig i DM 💰💰💰",
    "Följ mitt konto för gratis presentkort!!! 🎁",
]
DM_IN = [
    "Hej, jag har fått en faktura för barnomsorg som inte stämmer. Vem kan jag prata med?",
    "Hej! Min mamma bor på Ljunghögen och vi vill veta besökstiderna.",
    "Jag vill klaga på bemötandet i kundtjänst i förrgår.",
    "Hej, hur gör jag för att få parkeringstillstånd för rörelsehindrade?",
]
DM_OUT = [
    "Hej! Tack för ditt meddelande. Jag skickar vidare till förskoleförvaltningen. Vänliga hälsningar, Kontaktcenter",
    "Hej! Besökstiderna är 10–19 alla dagar. Vänliga hälsningar, Kontaktcenter",
]
REPLIES = [
    "Hej! Badet öppnar den 1 juni. Vänliga hälsningar, Louise kommunikatör",
    "Hej! Du hittar svaret på helsingborg.se eller ring kontaktcenter 042-10 50 00. Vänliga hälsningar, Ahmed kommunikatör",
    "Tack för din fråga! Vi har skickat den vidare till stadsbyggnadsförvaltningen. Vänliga hälsningar, Louise kommunikatör",
]
POSTS = [
    "Nu är det eldningsförbud i hela Skåne. Läs mer på helsingborg.se",
    "Möt vårdhunden Chili, en av stadens superhjältar 🐕",
    "Ett hej kan rädda liv – känner du till vänskapsbänkarna?",
    "Trafikinformation: Järnvägsgatan stängs av i helgen.",
]
FIRST_NAMES = ["Anna", "Erik", "Fatima", "Lars", "Maja", "Mohammed", "Sara", "Johan", "Elin", "Ali", "Karin", "Nils"]
LAST_NAMES = ["Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Hassan", "Larsson", "Lindqvist"]
STREETS = ["Storgatan", "Drottninggatan", "Bruksgatan", "Kullagatan", "Järnvägsgatan"]

# Relative frequency of what happens next on an account.
SCENARIOS: dict[str, int] = {
    "question": 18, "opinion": 12, "praise": 6, "insult": 5, "threat": 2, "personal_data": 6, "link": 4,
    "spam": 4, "reply": 10, "edit": 4, "delete": 3, "hide": 3, "dm_in": 10, "dm_out": 5, "post": 3, "mention": 3,
}


def personnummer(rng: random.Random) -> str:
    """A checksum-valid Swedish personal identity number (YYMMDD-NNNC, Luhn on the nine digits)."""
    born = datetime(1940, 1, 1) + timedelta(days=rng.randrange(0, 365 * 65))
    digits = born.strftime("%y%m%d") + f"{rng.randrange(0, 1000):03d}"
    total = 0
    for index, char in enumerate(digits):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product // 10 + product % 10
    return f"{digits[:6]}-{digits[6:]}{(10 - total % 10) % 10}"


@dataclass
class _Citizen:
    id: str
    name: str
    handle: str


@dataclass
class _Comment:
    item_id: str
    thread_id: str
    author: _Citizen
    text: str
    is_question: bool


@dataclass
class _AccountState:
    record: AccountRecord
    posts: list[str] = field(default_factory=list)
    open_questions: list[_Comment] = field(default_factory=list)
    comments: list[_Comment] = field(default_factory=list)
    dm_partners: list[_Citizen] = field(default_factory=list)


class TrafficGenerator:
    """`deliveries(start, batch)` yields signed webhook bodies, one account per body, forever."""

    def __init__(self, accounts: list[AccountRecord], secrets: p.Secrets, *, seed: int = 2024,
                 unknown_account_share: float = 0.02) -> None:
        active = [a for a in accounts if a.status.value == "active"]
        if not active:
            raise ValueError("the traffic generator needs at least one active account")
        self.rng = random.Random(seed)
        self.secrets = secrets
        self.unknown_account_share = unknown_account_share
        self.states = [_AccountState(a) for a in active]
        self._counter = 0
        self._id_base = (1 + self.rng.randrange(10**6)) * 10**9
        self._citizens = [self._new_citizen() for _ in range(60)]
        self._spammer = self._citizens[0]

    # --- identities ------------------------------------------------------------------------------

    def _next_id(self) -> int:
        """Platform-like numeric ids, distinct per seed so that two simulations do not collide."""
        self._counter += 1
        return self._id_base + self._counter

    def _new_citizen(self) -> _Citizen:
        first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
        return _Citizen(id=str(7_000_000_000 + self.rng.randrange(10**8)), name=f"{first} {last}",
                        handle=f"{first.lower()}_{last.lower()[:4]}{self.rng.randrange(10, 99)}")

    def _citizen(self) -> _Citizen:
        return self.rng.choice(self._citizens)

    def _personal_data_text(self) -> str:
        choice = self.rng.randrange(4)
        if choice == 0:
            return f"Mitt personnummer är {personnummer(self.rng)}, kan ni kolla mitt ärende?"
        if choice == 1:
            return f"Ring mig på 07{self.rng.randrange(0, 10)}-{self.rng.randrange(100, 999)} {self.rng.randrange(10, 99)} {self.rng.randrange(10, 99)} så förklarar jag."
        if choice == 2:
            citizen = self._citizen()
            return f"Maila mig på {citizen.handle}@gmail.com, det gäller min sons skolplacering."
        return f"Grannen på {self.rng.choice(STREETS)} {self.rng.randrange(1, 80)} spelar hög musik varje natt, gör något!"

    # --- the stream ------------------------------------------------------------------------------

    def deliveries(self, start: datetime, batch: int = 1, step: timedelta = timedelta(seconds=7)) -> Iterator[p.Delivery]:
        moment = start
        while True:
            state = self.rng.choice(self.states)
            account_id = state.record.external_id
            if self.rng.random() < self.unknown_account_share:
                account_id = str(900_000_000 + self.rng.randrange(10**6))  # a page nobody put in the inventory
            fragments = []
            for _ in range(max(1, batch)):
                moment += step
                fragments.append(self._happening(state, account_id, moment))
            yield self._wrap(state.record.platform, account_id, fragments)

    def _happening(self, state: _AccountState, account_id: str, at: datetime) -> dict[str, Any]:
        platform = state.record.platform
        if not state.posts:
            return self._post(state, account_id, at)
        scenario = self.rng.choices(list(SCENARIOS), weights=list(SCENARIOS.values()))[0]
        if scenario == "reply" and state.open_questions:
            return self._reply(state, account_id, at)
        if scenario == "edit" and state.comments and platform in (Platform.FACEBOOK, Platform.LINKEDIN):
            return self._edit(state, account_id, at)
        if scenario == "delete" and state.comments and platform is not Platform.INSTAGRAM:
            return self._delete(state, account_id, at)
        if scenario == "hide" and state.comments and platform is Platform.FACEBOOK:
            return self._hide(state, account_id, at)
        if scenario in ("dm_in", "dm_out") and platform is not Platform.LINKEDIN:
            return self._dm(state, account_id, at, outgoing=scenario == "dm_out" and bool(state.dm_partners))
        if scenario == "post":
            return self._post(state, account_id, at)
        if scenario == "mention" and platform in (Platform.INSTAGRAM, Platform.X, Platform.LINKEDIN):
            return self._mention(state, account_id, at)
        texts = {"question": QUESTIONS, "opinion": OPINIONS, "praise": PRAISE, "insult": INSULTS,
                 "threat": THREATS, "link": LINKS, "spam": SPAM}.get(scenario)
        if scenario == "personal_data":
            text = self._personal_data_text()
        elif texts is not None:
            text = self.rng.choice(texts)
        else:
            text, scenario = self.rng.choice(QUESTIONS), "question"
        author = self._spammer if scenario == "spam" else self._citizen()
        return self._comment(state, account_id, at, author, text, is_question=scenario == "question")

    # --- what happens, per platform ---------------------------------------------------------------

    def _post(self, state: _AccountState, account_id: str, at: datetime) -> dict[str, Any]:
        record, text, n = state.record, self.rng.choice(POSTS), self._next_id()
        platform = record.platform
        if platform is Platform.FACEBOOK:
            post_id = f"{account_id}_{n}"
            state.posts.append(post_id)
            return {"meta_entry": p.page_entry(account_id, at, [p.feed_post(page_id=account_id, post_id=post_id, at=at,
                                                                           message=text, page_name=record.name)])}
        if platform is Platform.X:
            state.posts.append(str(n))
            return {"tweet_create_events": p.tweet(tweet_id=str(n), at=at, text=text,
                                                   user=(account_id, record.name.lstrip("@"), record.name))}
        if platform is Platform.LINKEDIN:
            # LinkedIn notifies about others' actions only: the post exists, the next comment lands on it.
            state.posts.append(f"urn:li:activity:{n}")
        else:  # Instagram sends no webhook for the account's own media; comments will arrive on it
            state.posts.append(str(18_000_000_000 + n))
        return self._comment(state, account_id, at, self._citizen(), self.rng.choice(PRAISE), is_question=False)

    def _comment(self, state: _AccountState, account_id: str, at: datetime, author: _Citizen, text: str,
                 *, is_question: bool) -> dict[str, Any]:
        platform, n = state.record.platform, self._next_id()
        thread = self.rng.choice(state.posts[-5:])
        if platform is Platform.FACEBOOK:
            item = f"{thread.split('_')[-1]}_{n}"
            fragment = {"meta_entry": p.page_entry(account_id, at, [p.feed_comment(
                post_id=thread, comment_id=item, at=at, message=text, author=(author.id, author.name))])}
        elif platform is Platform.INSTAGRAM:
            item = str(17_900_000_000 + n)
            value = p.instagram_comment_value(comment_id=item, media_id=thread, text=text, author=(author.id, author.handle))
            entry = (p.instagram_login_entry if self.rng.random() < 0.5 else p.instagram_changes_entry)(
                account_id, at, "comments", value)
            fragment = {"meta_entry": entry}
        elif platform is Platform.X:
            item = str(n)
            fragment = {"tweet_create_events": p.tweet(
                tweet_id=item, at=at, text=f"@{state.record.name.lstrip('@')} {text}",
                user=(author.id, author.handle, author.name), in_reply_to=(thread, account_id))}
        else:
            item = f"urn:li:comment:({thread},{n})"
            fragment = {"notification": p.linkedin_notification(
                notification_id=n, organization=account_id, action="COMMENT", post_urn=thread, comment_urn=item,
                actor=f"urn:li:person:{author.handle}", at=at, text=text)}
        comment = _Comment(item, thread, author, text, is_question)
        state.comments = (state.comments + [comment])[-50:]
        if is_question:
            state.open_questions = (state.open_questions + [comment])[-50:]
        return fragment

    def _reply(self, state: _AccountState, account_id: str, at: datetime) -> dict[str, Any]:
        question = state.open_questions.pop(0)
        record, text, n = state.record, self.rng.choice(REPLIES), self._next_id()
        if record.platform is Platform.FACEBOOK:
            return {"meta_entry": p.page_entry(account_id, at, [p.feed_comment(
                post_id=question.thread_id, comment_id=f"{question.thread_id.split('_')[-1]}_{n}", at=at, message=text,
                author=(account_id, record.name), parent_id=question.item_id)])}
        if record.platform is Platform.INSTAGRAM:
            return {"meta_entry": p.instagram_changes_entry(account_id, at, "comments", p.instagram_comment_value(
                comment_id=str(17_900_000_000 + n), media_id=question.thread_id, text=f"@{question.author.handle} {text}",
                author=(account_id, record.name), parent_id=question.item_id))}
        if record.platform is Platform.X:
            return {"tweet_create_events": p.tweet(
                tweet_id=str(n), at=at, text=f"@{question.author.handle} {text}"[:280],
                user=(account_id, record.name.lstrip("@"), record.name), in_reply_to=(question.item_id, question.author.id))}
        return {"notification": p.linkedin_notification(
            notification_id=n, organization=account_id, action="ADMIN_COMMENT", post_urn=question.thread_id,
            comment_urn=f"urn:li:comment:({question.thread_id},{n})", actor="urn:li:person:redaktor01", at=at,
            text=text)}

    def _edit(self, state: _AccountState, account_id: str, at: datetime) -> dict[str, Any]:
        comment = self.rng.choice(state.comments)
        text = comment.text + " (redigerat)"
        if state.record.platform is Platform.FACEBOOK:
            return {"meta_entry": p.page_entry(account_id, at, [p.feed_comment(
                post_id=comment.thread_id, comment_id=comment.item_id, at=at, verb="edited", message=text,
                author=(comment.author.id, comment.author.name))])}
        return {"notification": p.linkedin_notification(
            notification_id=self._next_id(), organization=account_id, action="COMMENT_EDIT", post_urn=comment.thread_id,
            comment_urn=comment.item_id, actor=f"urn:li:person:{comment.author.handle}", at=at, text=text)}

    def _forget(self, state: _AccountState, comment: _Comment) -> None:
        state.comments = [c for c in state.comments if c is not comment]
        state.open_questions = [c for c in state.open_questions if c is not comment]

    def _delete(self, state: _AccountState, account_id: str, at: datetime) -> dict[str, Any]:
        comment = self.rng.choice(state.comments)
        self._forget(state, comment)
        if state.record.platform is Platform.FACEBOOK:
            author = (comment.author.id, comment.author.name) if self.rng.random() < 0.7 else None  # Meta may omit it
            return {"meta_entry": p.page_entry(account_id, at, [p.feed_comment(
                post_id=comment.thread_id, comment_id=comment.item_id, at=at, verb="remove", author=author)])}
        if state.record.platform is Platform.X:
            return {"tweet_delete_events": p.tweet_deletion(tweet_id=comment.item_id, user_id=comment.author.id, at=at)}
        return {"notification": p.linkedin_notification(
            notification_id=self._next_id(), organization=account_id, action="COMMENT_DELETE",
            post_urn=comment.thread_id, comment_urn=comment.item_id, actor=f"urn:li:person:{comment.author.handle}",
            at=at)}

    def _hide(self, state: _AccountState, account_id: str, at: datetime) -> dict[str, Any]:
        comment = self.rng.choice(state.comments)
        self._forget(state, comment)
        return {"meta_entry": p.page_entry(account_id, at, [p.feed_comment(
            post_id=comment.thread_id, comment_id=comment.item_id, at=at, verb="hide",
            author=(comment.author.id, comment.author.name))])}

    def _dm(self, state: _AccountState, account_id: str, at: datetime, *, outgoing: bool) -> dict[str, Any]:
        n = self._next_id()
        if outgoing:
            citizen, text = self.rng.choice(state.dm_partners), self.rng.choice(DM_OUT)
        else:
            citizen = self._citizen()
            text = self.rng.choice(DM_IN) if self.rng.random() < 0.8 else self._personal_data_text()
            state.dm_partners = (state.dm_partners + [citizen])[-20:]
        if state.record.platform is Platform.X:
            sender, recipient = (account_id, citizen.id) if outgoing else (citizen.id, account_id)
            return {"direct_message_events": p.x_direct_message(message_id=str(n), at=at, sender=sender,
                                                                 recipient=recipient, text=text)}
        sender, recipient = (account_id, citizen.id) if outgoing else (citizen.id, account_id)
        return {"meta_entry": p.messaging_entry(account_id, at, sender=sender, recipient=recipient, mid=f"m_{n}",
                                                text=text, echo=outgoing)}

    def _mention(self, state: _AccountState, account_id: str, at: datetime) -> dict[str, Any]:
        n, citizen = self._next_id(), self._citizen()
        if state.record.platform is Platform.INSTAGRAM:
            return {"meta_entry": p.instagram_changes_entry(account_id, at, "mentions",
                                                            {"media_id": str(18_100_000_000 + n), "comment_id": str(n)})}
        if state.record.platform is Platform.X:
            return {"tweet_create_events": p.tweet(
                tweet_id=str(n), at=at, text=f"Vilken fin dag vid Öresund! Tack {state.record.name}",
                user=(citizen.id, citizen.handle, citizen.name))}
        share = f"urn:li:share:{n}"
        notification = p.linkedin_notification(
            notification_id=n, organization=account_id, action="SHARE_MENTION", post_urn=share, comment_urn=share,
            actor=f"urn:li:person:{citizen.handle}", at=at)
        notification["decoratedGeneratedActivity"] = {"share": {"entity": share, "owner": notification["actor"],
                                                                "text": f"Stolt att jobba på {state.record.name}!"}}
        return {"notification": notification}

    # --- one body per platform ---------------------------------------------------------------------

    def _wrap(self, platform: Platform, account_id: str, fragments: list[dict[str, Any]]) -> p.Delivery:
        if platform in (Platform.FACEBOOK, Platform.INSTAGRAM):
            body = p.meta_body("page" if platform is Platform.FACEBOOK else "instagram",
                               [f["meta_entry"] for f in fragments])
            return p.sign("meta", body, self.secrets, events=len(fragments))
        if platform is Platform.X:
            events: dict[str, list[Any]] = {}
            for fragment in fragments:
                for key, value in fragment.items():
                    events.setdefault(key, []).append(value)
            return p.sign("x", p.x_body(account_id, **events), self.secrets, events=len(fragments))
        return p.sign("linkedin", p.linkedin_body([f["notification"] for f in fragments]), self.secrets,
                      events=len(fragments))

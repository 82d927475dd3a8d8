"""What must hold across the whole platform after any stretch of traffic, faults or not.

Ground truth is what ingest published (`social.events.v1`, read back with a real consumer) and what
the platforms' side sent; every other fact is read from the services' own database tables and
APIs. Each check returns human-readable violations (empty = holds), so a failing test names the
item and what is missing or doubled.

The invariants (issue 4, "End-to-end test"):
- every comment version is archived exactly once (and every other event too);
- every city removal has a decision, an action, a snapshot, a registration and one e-mail;
- every question and DM has an SLA record with the right outcome;
- the services' metrics agree with the archive's counts.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from email.message import Message
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx

STOCKHOLM = ZoneInfo("Europe/Stockholm")
CONTENT_KINDS = {"post.published", "post.edited", "comment.created", "comment.edited", "reply.by_account",
                 "mention", "dm.received", "dm.sent"}
MODERATED_KINDS = {"comment.created", "comment.edited", "mention", "dm.received"}
REMOVAL_KINDS = {"comment.hidden", "comment.deleted_by_city", "comment.deleted_by_author"}
CITY_REMOVAL = {"comment.hidden": "hide", "comment.deleted_by_city": "delete"}
OPEN_STATES = {"open", "at_risk"}


@dataclass
class Snapshot:
    """Everything the checks look at, read once."""

    topic_events: dict[str, dict[str, Any]]  # event_id -> canonical event as published by ingest
    topic_duplicates: int  # records on the topic repeating an event_id (503 retries): allowed
    archived_events: list[asyncpg.Record]
    archived_metric_ids: list[str]
    items: dict[int, asyncpg.Record]
    decisions: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    removals: list[asyncpg.Record]
    sla_changes: list[dict[str, Any]]
    sla_items: dict[tuple[str, str, str], asyncpg.Record]  # the SLA service's own table: tracked items
    mails: list[Message]


async def take_snapshot(database_url: str, topic_records: list[tuple[bytes | None, bytes]],
                        mails: list[Message]) -> Snapshot:
    events: dict[str, dict[str, Any]] = {}
    duplicates = 0
    for _, value in topic_records:
        event = json.loads(value)
        if event["event_id"] in events:
            duplicates += 1
        events[event["event_id"]] = event
    connection = await asyncpg.connect(database_url)
    try:
        archived = await connection.fetch(
            "SELECT item_ref, event_id, kind, version_no, occurred_at FROM item_event ORDER BY item_ref, seq")
        metric_ids = [r["event_id"] for r in await connection.fetch("SELECT event_id FROM metric_snapshot")]
        items = {r["id"]: r for r in await connection.fetch(
            "SELECT id, platform, account_id, platform_item_id, item_type, thread_id, parent_id FROM item")}
        decisions = [json.loads(r["record"]) for r in await connection.fetch("SELECT record FROM moderation_decision")]
        actions = [json.loads(r["record"]) for r in await connection.fetch("SELECT record FROM platform_action")]
        removals = await connection.fetch(
            "SELECT m.id, m.platform, m.account_id, m.platform_item_id, m.operation, m.source, m.source_id,"
            " g.number, s.pdf, s.png, o.status AS mail_status, o.message_id"
            " FROM removal m LEFT JOIN registration g ON g.removal_ref = m.id"
            " LEFT JOIN snapshot s ON s.registration_ref = g.id"
            " LEFT JOIN mail_outbox o ON o.registration_ref = g.id")
        sla_changes = [json.loads(r["record"]) for r in await connection.fetch("SELECT record FROM sla_change")]
        sla_items = {(r["platform"], r["account_id"], r["item_id"]): r for r in await connection.fetch(
            "SELECT * FROM sla_items WHERE state IS NOT NULL")}
    finally:
        await connection.close()
    return Snapshot(events, duplicates, archived, metric_ids, items, decisions, actions, removals, sla_changes,
                    sla_items, list(mails))


# --- 1. every event (every comment version) archived exactly once ------------------------------------


def check_archived_once(snap: Snapshot, events_accepted: int) -> list[str]:
    problems: list[str] = []
    published = set(snap.topic_events)
    if len(published) != events_accepted:
        problems.append(f"ingest acknowledged {events_accepted} events but {len(published)} distinct event ids "
                        "are on social.events.v1")
    archived = Counter(r["event_id"] for r in snap.archived_events) + Counter(snap.archived_metric_ids)
    doubled = [event_id for event_id, n in archived.items() if n > 1]
    missing = published - set(archived)
    extra = set(archived) - published
    problems += [f"archived {archived[e]} times: {e}" for e in doubled[:20]]
    problems += [f"published but not archived: {e} ({snap.topic_events[e]['kind']})" for e in sorted(missing)[:20]]
    problems += [f"archived but never published: {e}" for e in sorted(extra)[:20]]
    if len(missing) > 20:
        problems.append(f"... {len(missing)} missing in all")
    # Versions: per item, the content events on the topic are versions 1..n in the archive, once each.
    versions: dict[int, list[int]] = defaultdict(list)
    for row in snap.archived_events:
        if row["kind"] in CONTENT_KINDS:
            versions[row["item_ref"]].append(row["version_no"])
    for item_ref, numbers in versions.items():
        if sorted(numbers) != list(range(1, len(numbers) + 1)):
            item = snap.items[item_ref]
            problems.append(f"item {item['platform_item_id']}: versions {sorted(numbers)} are not 1..{len(numbers)}")
    published_versions = Counter((e["platform"], e["account_id"], e["item_id"]) for e in snap.topic_events.values()
                                 if e["kind"] in CONTENT_KINDS)
    archived_versions = Counter({(snap.items[ref]["platform"], snap.items[ref]["account_id"],
                                  snap.items[ref]["platform_item_id"]): len(numbers) for ref, numbers in versions.items()})
    for key in set(published_versions) | set(archived_versions):
        if published_versions[key] != archived_versions[key]:
            problems.append(f"item {key}: {published_versions[key]} versions published, {archived_versions[key]} archived")
    return problems


# --- 2. moderation: one decision per citizen text, actions for every removal decision ------------------


def check_decisions(snap: Snapshot) -> list[str]:
    problems: list[str] = []
    by_event = Counter(d["event_id"] for d in snap.decisions if d["decided_by"] == "moderation")
    for event_id, event in snap.topic_events.items():
        if event["kind"] in MODERATED_KINDS and not event["author"].get("is_account"):
            if by_event[event_id] != 1:
                problems.append(f"{event['kind']} {event['item_id']} has {by_event[event_id]} decisions (want 1)")
    unknown = [d["decision_id"] for d in snap.decisions if d["event_id"] not in snap.topic_events]
    problems += [f"decision {d} about an event nobody published" for d in unknown[:10]]
    return problems


def check_actions(snap: Snapshot, accounts_with_token: set[str]) -> list[str]:
    """Each hide/delete decision became platform commands, and each command an outcome; accounts with a
    token are really called, so their hides and deletes are `done` where the platform can do them
    (X cannot delete a citizen's reply, so a delete there is also a hide; LinkedIn cannot hide)."""
    problems: list[str] = []
    commands = defaultdict(list)
    outcomes = defaultdict(list)
    for message in snap.actions:
        (commands if message["type"] == "command" else outcomes)[message["action_id"]].append(message)
    for decision in snap.decisions:
        if decision["action"] not in ("hide", "delete"):
            continue
        mine = [c for cs in commands.values() for c in cs if c["decision_id"] == decision["decision_id"]]
        if not any(c["operation"] == decision["action"] for c in mine):
            problems.append(f"decision {decision['decision_id']} ({decision['action']} {decision['item_id']}) "
                            f"has no {decision['action']} command")
        if decision["platform"] == "x" and decision["action"] == "delete" and not any(c["operation"] == "hide" for c in mine):
            problems.append(f"delete of {decision['item_id']} on X has no hide to go with it")
    impossible = {("x", "delete"), ("linkedin", "hide")}
    for action_id, cs in commands.items():
        if len(cs) != 1:
            problems.append(f"command {action_id} archived {len(cs)} times")
        command = cs[0]
        final = [o for o in outcomes.get(action_id, []) if o["status"] in ("done", "dry_run", "failed", "unsupported")]
        if not final:
            problems.append(f"command {action_id} ({command['operation']} {command['item_id']}) has no outcome")
            continue
        removal = command["operation"] in ("hide", "delete") and command["account_id"] in accounts_with_token
        expected = "unsupported" if (command["platform"], command["operation"]) in impossible else "done"
        if removal and not any(o["status"] == expected for o in final):
            problems.append(f"{command['operation']} of {command['item_id']} on {command['platform']} not {expected}: "
                            f"{[o['status'] for o in final]}")
    return problems


# --- 3. removals: decision, action, registration, snapshot and exactly one e-mail ---------------------


def check_removals(snap: Snapshot, *, resent_copies_allowed: bool = False) -> list[str]:
    """`resent_copies_allowed`: after a fault between the SMTP server's acceptance and the commit
    of `sent` (the database stopped, the archive killed), the archive sends that e-mail again —
    SMTP has no transaction — with the same Message-ID, so the registrar's mailbox keeps one.
    Then a second copy is accepted, a second Message-ID never."""
    problems: list[str] = []
    decided_items = {(d["platform"], d["account_id"], d["item_id"]) for d in snap.decisions}
    done = {(o["platform"], o["account_id"], o["item_id"], o["operation"]): o for o in snap.actions
            if o["type"] == "outcome" and o["status"] == "done" and o["operation"] in ("hide", "delete")}
    told_by_platform = {(e["platform"], e["account_id"], e["item_id"], CITY_REMOVAL[e["kind"]]): e
                        for e in snap.topic_events.values() if e["kind"] in CITY_REMOVAL}
    removals = {(r["platform"], r["account_id"], r["platform_item_id"], r["operation"]): r for r in snap.removals}
    # Every city removal, however the archive heard of it, is a removal row ...
    for key in set(done) | set(told_by_platform):
        if key not in removals:
            problems.append(f"city removal {key} was never registered")
    mails_by_id = Counter(m["Message-ID"] for m in snap.mails)
    numbers_mailed = Counter(n for m in snap.mails for n in [_number(m)] if n)
    for key, removal in removals.items():
        what = f"removal {removal['operation']} of {removal['platform_item_id']} ({removal['platform']})"
        if key[:3] not in decided_items:
            problems.append(f"{what}: no moderation decision for the comment")
        if key not in done and key not in told_by_platform:
            problems.append(f"{what}: neither an executed action nor a platform notice says it happened")
        if removal["number"] is None:
            problems.append(f"{what}: no registration")
            continue
        if removal["pdf"] is None or not bytes(removal["pdf"]).startswith(b"%PDF") or \
                not bytes(removal["png"] or b"").startswith(b"\x89PNG"):
            problems.append(f"{what} ({removal['number']}): no PDF/PNG snapshot")
        if removal["mail_status"] != "sent":
            problems.append(f"{what} ({removal['number']}): e-mail {removal['mail_status']}")
        copies = numbers_mailed[removal["number"]]
        if mails_by_id[removal["message_id"]] != copies or copies == 0 or (copies > 1 and not resent_copies_allowed):
            problems.append(f"{what} ({removal['number']}): {copies} e-mails in the mailbox (its Message-ID "
                            f"seen {mails_by_id[removal['message_id']]} times), want exactly 1")
    registered = {r["number"] for r in snap.removals if r["number"]}
    problems += [f"e-mail for unknown registration {n}" for n in numbers_mailed if n not in registered]
    return problems


def _number(mail: Message) -> str | None:
    subject = str(mail["Subject"] or "")
    # "Diarieföring KS 2026/000123: dold kommentar (facebook)"
    if not subject.startswith("Diarieföring "):
        return None
    return subject.removeprefix("Diarieföring ").split(":", 1)[0]


# --- 4. SLA: every question and DM tracked, with the outcome the rule gives ----------------------------


def working_deadline(occurred_at: datetime) -> datetime:
    """Helsingborg (seed 001, "Svara så fort som möjligt"): 24 h in working time, weekdays 8-17: the
    same local time on the next working day, the clock starting at the next opening. Written out
    here independently of the SLA service, for weekdays without public holidays (the test's days)."""
    local = occurred_at.astimezone(STOCKHOLM)

    def next_working_day(day: datetime) -> datetime:
        day += timedelta(days=1)
        while day.weekday() >= 5:
            day += timedelta(days=1)
        return day

    if local.weekday() >= 5 or local.time() >= time(17):
        start = next_working_day(local).replace(hour=8, minute=0, second=0, microsecond=0)
    elif local.time() < time(8):
        start = local.replace(hour=8, minute=0, second=0, microsecond=0)
    else:
        start = local
    return next_working_day(start).astimezone(occurred_at.tzinfo)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def expected_sla(snap: Snapshot, now: datetime) -> dict[tuple[str, str, str], dict[datetime, set[str]]]:
    """Every item that needs an answer -> {deadline: acceptable final states}.

    The clock starts at the first version the SLA service reads: in order that is the comment
    itself, but a redelivered webhook can put an edit on the topic before it, so the deadline of
    any of the item's versions is accepted, with the outcome that deadline gives."""
    events = list(snap.topic_events.values())
    latest_decision: dict[tuple[str, str, str], dict[str, Any]] = {}
    for decision in snap.decisions:
        key = (decision["platform"], decision["account_id"], decision["item_id"])
        if key not in latest_decision or _at(decision["decided_at"]) > _at(latest_decision[key]["decided_at"]):
            latest_decision[key] = decision
    first_version: dict[tuple[str, str, str], dict[str, Any]] = {}
    versions: dict[tuple[str, str, str], list[datetime]] = defaultdict(list)
    for event in sorted(events, key=lambda e: _at(e["occurred_at"])):
        if event["kind"] in ("comment.created", "comment.edited", "dm.received") and not event["author"].get("is_account"):
            key = (event["platform"], event["account_id"], event["item_id"])
            first_version.setdefault(key, event)
            versions[key].append(_at(event["occurred_at"]))
    answers = [e for e in events if e["kind"] in ("reply.by_account", "dm.sent")]
    # Removed by anyone, or by a moderation decision on any version: cancelled is final.
    removed = {(e["platform"], e["account_id"], e["item_id"]) for e in events if e["kind"] in REMOVAL_KINDS}
    removed |= {(d["platform"], d["account_id"], d["item_id"]) for d in snap.decisions if d["action"] in ("hide", "delete")}
    expected: dict[tuple[str, str, str], dict[datetime, set[str]]] = {}
    for key, item in first_version.items():
        decision = latest_decision.get(key)
        is_dm = item["kind"] == "dm.received"
        if not is_dm and not (decision and decision["needs_answer"]):
            continue
        gone = key in removed
        root = item["item_id"] if item["parent_id"] in (None, item["thread_id"]) else item["parent_id"]
        expected[key] = {}
        for occurred in versions[key]:
            deadline = working_deadline(occurred)
            replies = sorted(
                _at(a["occurred_at"]) for a in answers
                 if (a["platform"], a["account_id"], a["thread_id"]) == key[:2] + (item["thread_id"],)
                 and ((is_dm and a["kind"] == "dm.sent" and _at(a["occurred_at"]) >= occurred)
                      or (not is_dm and a["kind"] == "reply.by_account"
                          and (a["parent_id"] == item["item_id"]
                               or (a["parent_id"] == root and _at(a["occurred_at"]) >= occurred)))))
            if replies:
                answered = {"met" if replies[0] <= deadline else "breached"}
                states = answered | {"cancelled"} if gone else answered  # removal and answer: whichever came first
            elif gone:
                states = {"cancelled"}
            else:
                states = {"breached"} if deadline <= now else OPEN_STATES
            expected[key][deadline] = states
    return expected


def check_sla(snap: Snapshot, now: datetime) -> list[str]:
    problems: list[str] = []
    expected = expected_sla(snap, now)
    for key, outcomes in expected.items():
        tracked = snap.sla_items.get(key)
        what = f"item {key[2]} ({key[0]}, account {key[1]})"
        if tracked is None:
            if all(states == {"cancelled"} for states in outcomes.values()):
                continue  # removed before the SLA read it (a retried delivery came late): nothing to answer
            problems.append(f"{what}: needs an answer but has no SLA record")
            continue
        if tracked["deadline"] not in outcomes:
            problems.append(f"{what}: deadline {tracked['deadline']}, want one of {sorted(outcomes)}")
        elif tracked["state"] not in outcomes[tracked["deadline"]]:
            problems.append(f"{what}: SLA state {tracked['state']} ({tracked['closed_reason']}), "
                            f"want {sorted(outcomes[tracked['deadline']])}")
    # The archive holds the SLA outcome of every tracked item, and no transition twice.
    archived = defaultdict(list)
    for change in snap.sla_changes:
        archived[change["event_id"]].append(change)
    for tracked in snap.sla_items.values():
        states = [c["state"] for c in archived.get(tracked["event_id"], [])]
        if tracked["state"] not in states:
            problems.append(f"SLA item {tracked['item_id']}: state {tracked['state']} not in the archive ({states})")
    ids = Counter(c["change_id"] for c in snap.sla_changes)
    problems += [f"SLA change {c} archived {n} times" for c, n in ids.items() if n > 1]
    return problems


async def check_sla_api(sla_url: str, snap: Snapshot, sample: int = 40) -> list[str]:
    """The SLA service answers for its items through its own API as its table says."""
    problems: list[str] = []
    async with httpx.AsyncClient(base_url=sla_url, timeout=10, headers={"Authorization": "Bearer e2e-editor"}) as client:
        for row in list(snap.sla_items.values())[:sample]:
            response = await client.get(f"/items/{row['event_id']}")
            if response.status_code != 200 or response.json()["state"] != row["state"]:
                problems.append(f"GET /items/{row['event_id']}: {response.status_code} {response.text[:120]}")
    return problems


# --- 5. metrics agree with the archive ----------------------------------------------------------------


def metric_total(text: str, name: str, **labels: str) -> float:
    """Sum of a metric's samples (optionally only those with these label values)."""
    from prometheus_client.parser import text_string_to_metric_families

    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


@dataclass
class Expectation:
    name: str
    got: float
    want: float


@dataclass
class MetricCheck:
    rows: list[Expectation] = field(default_factory=list)

    def expect(self, name: str, got: float, want: float) -> None:
        self.rows.append(Expectation(name, got, want))

    @property
    def problems(self) -> list[str]:
        return [f"{r.name} = {r.got:g}, archive says {r.want:g}" for r in self.rows if r.got != r.want]


async def check_metrics(urls: dict[str, str], snap: Snapshot, settle_s: float = 15.0) -> list[str]:
    """Counters of processes that ran the whole time agree with what the archive holds.

    Read again for up to `settle_s` while they differ: a counter moves a moment after the effect the
    snapshot saw (a registration mail is in the mailbox when the relay accepted it, and counted once
    the archive has marked it sent)."""
    loop = asyncio.get_running_loop()
    until = loop.time() + settle_s
    while True:
        problems = await _metric_problems(urls, snap)
        if not problems or loop.time() > until:
            return problems
        await asyncio.sleep(0.5)


async def _metric_problems(urls: dict[str, str], snap: Snapshot) -> list[str]:
    async with httpx.AsyncClient(timeout=10) as client:
        text = {name: (await client.get(f"{url}/metrics")).text for name, url in urls.items()}
    check = MetricCheck()
    archived_events = len(snap.archived_events) + len(snap.archived_metric_ids)
    check.expect("socialops_ingest_events_total", metric_total(text["ingest"], "socialops_ingest_events_total"),
                 archived_events)
    check.expect('archive_events_archived_total{topic="social.events.v1"}',
                 metric_total(text["archive"], "archive_events_archived_total", topic="social.events.v1"), archived_events)
    decisions = len([d for d in snap.decisions if d["decided_by"] == "moderation"])
    check.expect("moderation decisions (distinct per decision)",
                 metric_total(text["archive"], "archive_events_archived_total", topic="social.moderation.v1"),
                 len(snap.decisions))
    check.expect("socialops_moderation_decisions_total (per decision, counted once)", _decisions_counted(text["moderation"]),
                 decisions)
    check.expect("archive_registrations_total", metric_total(text["archive"], "archive_registrations_total"),
                 len([r for r in snap.removals if r["number"]]))
    # the mailbox also holds the SLA's notices and reports, once its consumer has caught up
    check.expect("archive_registration_mails_sent_total",
                 metric_total(text["archive"], "archive_registration_mails_sent_total"),
                 len([m for m in snap.mails if _number(m)]))
    check.expect("socialops_sla_changes_published_total",
                 metric_total(text["sla"], "socialops_sla_changes_published_total"), len(snap.sla_changes))
    return check.problems


def _decisions_counted(text: str) -> float:
    """socialops_moderation_decisions_total{rule,action} counts each decision under each rule it hit (or none):
    the decision count is the sum over the rule="none"-or-first label set, so count distinct decisions
    through the latency histogram, observed once per decision."""
    return metric_total(text, "socialops_moderation_decision_latency_seconds_count")


def check_no_dead_letters(records: list[tuple[bytes | None, bytes]]) -> list[str]:
    """The simulated traffic is all valid: anything on the dead-letter topic was lost to its service."""
    problems = []
    for _, value in records:
        letter = json.loads(value)
        problems.append(f"dead-lettered by {letter['source']}: {letter['reason'][:200]} "
                        f"({letter.get('topic')}@{letter.get('offset')})")
    return problems

"""Moderation throughput: comments/s through the classifiers alone, then end-to-end through Kafka.

    .venv/bin/python bench/moderation.py [--classify N] [--rounds R] [--e2e N]

1. Classifiers: every rule (abuse, personal data, links, scams, questions + language, spam tracker)
   and the policy, on one core (the process is pinned to one CPU), over the labelled sets' texts
   (varied: clean, abusive, personal data, links, questions), for the rules alone and for rules +
   the learned second opinion, taking turns every 250 comments in the same run and counting each
   one's CPU time; per round the two rates and their ratio, and the medians, are printed. Targets: ≥ 2,000 comments/s per core (issue 5); rules + model ≤ 1.5× the rules'
   time per comment (issue 14).
2. End-to-end: a broker and PostgreSQL of its own (socialops_common.devstack), the moderation
   service in this process; N comments published to social.events.v1, timed until N decisions are
   on social.moderation.v1 (each one stored in PostgreSQL and acknowledged by the broker first).
The machine may be shared: numbers are noisy, run it twice.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from socialops_common.devstack import LocalBroker, LocalDatabase
from socialops_common.events import Author, EventKind, Platform, SocialEvent, social_event_id
from socialops_common.kafka import ensure_topics, to_bytes
from socialops_common.observability import configure_logging
from socialops_common.topics import EVENTS, MODERATION
from socialops_moderation.classify import Classifier
from socialops_moderation.evaluation import load_items
from socialops_moderation.main import ModerationService, build_moderator
from socialops_moderation.settings import ModerationSettings

DATA = Path(__file__).resolve().parent.parent / "services" / "moderation" / "tests" / "data"


def events(count: int) -> list[SocialEvent]:
    texts = [i["text"] for i in load_items(*sorted(DATA.glob("eval_*.jsonl")), DATA / "city_comments.jsonl", DATA / "city_comments2.jsonl")]
    start = datetime.now(UTC)
    run = uuid.uuid4().hex[:6]
    made = []
    for n in range(count):
        item = f"bench{run}_{n}"
        at = start + timedelta(milliseconds=n)
        made.append(
            SocialEvent(
                event_id=social_event_id(Platform.FACEBOOK, EventKind.COMMENT_CREATED, item),
                kind=EventKind.COMMENT_CREATED, platform=Platform.FACEBOOK, account_id=f"page-{n % 20}",
                item_id=item, thread_id=f"post-{n % 200}", author=Author(id=f"user-{n % 5000}"),
                # unique texts, so no cache inside the rules flatters the numbers
                text=f"{texts[n % len(texts)]} ({n})", occurred_at=at, received_at=at,
            )
        )
    return made


def bench_classifiers(count: int, rounds: int, chunk: int = 250) -> tuple[list[float], list[float], list[float]]:
    """Comments per CPU-second for the rules alone and for rules + model, and per round their
    ratio. The two take turns every `chunk` comments, so both see the same machine (on a shared
    machine a whole round of one can meet a neighbour's job the other never saw), and each counts
    its process CPU time (what one core spends), not the wall clock. Fresh moderators each round
    (spam history starts empty), the same comments."""
    batch = events(count)
    rates: dict[str, list[float]] = {"rules": [], "rules+model": []}
    for _ in range(rounds):
        moderators = {"rules": build_moderator(ModerationSettings()), "rules+model": build_moderator(ModerationSettings())}
        rules = moderators["rules"]
        rules.classifier = Classifier(rules.classifier.personal_data, rules.classifier.links, model=None)
        for moderator in moderators.values():  # load lexicons, compile patterns, langid model, the model file
            moderator.decide(batch[0], batch[0].occurred_at)
        spent = dict.fromkeys(moderators, 0.0)
        for start in range(1, count, chunk):
            for name, moderator in moderators.items():
                began = time.process_time()
                for event in batch[start : start + chunk]:
                    moderator.decide(event, event.occurred_at)
                spent[name] += time.process_time() - began
        for name in rates:
            rates[name].append((count - 1) / spent[name])
    ratios = [r / m for r, m in zip(rates["rules"], rates["rules+model"], strict=True)]
    return rates["rules"], rates["rules+model"], ratios


async def bench_end_to_end(count: int, broker: LocalBroker, database: LocalDatabase) -> tuple[float, float]:
    name = f"socialops_bench_{uuid.uuid4().hex[:8]}"
    try:
        await ensure_topics(broker.bootstrap)
        dsn = await database.create_database(name)
        service = ModerationService(ModerationSettings(kafka_bootstrap=broker.bootstrap, database_url=dsn))
        await service.start()
        batch = events(count)
        wanted = {e.event_id for e in batch}
        consumer = AIOKafkaConsumer(MODERATION, bootstrap_servers=broker.bootstrap, group_id=None, auto_offset_reset="earliest")
        await consumer.start()
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all", linger_ms=5)
        await producer.start()
        started = time.perf_counter()
        futures = [await producer.send(EVENTS, to_bytes(e), key=e.partition_key) for e in batch]
        await asyncio.gather(*futures)
        published = time.perf_counter() - started
        seen: set[str] = set()

        while len(seen) < len(wanted) and time.perf_counter() - started < 110:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                for record in records:
                    event_id = json.loads(record.value)["event_id"]
                    if event_id in wanted:
                        seen.add(event_id)
        elapsed = time.perf_counter() - started
        await producer.stop()
        await consumer.stop()
        await service.stop()
        if len(seen) < len(wanted):
            print(f"  only {len(seen)} of {len(wanted)} decisions arrived in time")
        return len(seen) / elapsed, published
    finally:
        await database.drop_database(name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--classify", type=int, default=3000, help="comments through the classifiers per round")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds of rules alone / rules + model")
    parser.add_argument("--e2e", type=int, default=3000, help="comments end-to-end through Kafka (0: skip)")
    args = parser.parse_args()
    configure_logging("bench", "WARNING", "console")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[-1]})
    rules, with_model, ratios = bench_classifiers(args.classify, args.rounds)
    for name, rates in (("rules alone", rules), ("rules + model", with_model)):
        print(f"classifiers + policy, one core, {name:<13}: median {statistics.median(rates):,.0f} comments per CPU-second "
              f"(rounds: {', '.join(f'{r:,.0f}' for r in rates)}; {args.classify} comments each)")
    print(f"CPU time per comment, rules + model / rules alone: median {statistics.median(ratios):.2f}x "
          f"(per round: {', '.join(f'{x:.2f}' for x in ratios)}; target ≤ 1.5)")
    if args.e2e <= 0:
        return 0
    broker = LocalBroker().start()
    database = LocalDatabase.find_or_start(None)
    try:
        e2e_rate, published = asyncio.run(bench_end_to_end(args.e2e, broker, database))
    finally:
        broker.stop()
        database.stop()
    print(f"end-to-end through Kafka + PostgreSQL: {e2e_rate:,.0f} comments/s over {args.e2e} comments "
          f"(publishing them took {published:.1f}s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

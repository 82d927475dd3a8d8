"""`socialops-deadletter`: look at the dead-letter topic and re-drive messages after a fix.

Dead letters written by a consumer carry the topic, partition and offset they came from; `replay`
publishes their payload again to that topic with the original key. Consumers are idempotent, so a
replay of something that meanwhile succeeded changes nothing. Dead letters written by ingest
(webhook bodies the platform sent us that we could not understand) have no topic: `replay
--webhook URL` posts their raw body back to ingest with the headers kept.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import sys
from collections.abc import Callable
from datetime import datetime

from aiokafka import AIOKafkaConsumer, TopicPartition

from .events import DeadLetter
from .settings import CommonSettings
from .topics import DEADLETTER


async def read_dead_letters(bootstrap: str, keep: Callable[[DeadLetter], bool]) -> list[DeadLetter]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer.topics()
        partitions = [TopicPartition(DEADLETTER, p) for p in consumer.partitions_for_topic(DEADLETTER) or ()]
        if not partitions:
            return []
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        letters: list[DeadLetter] = []
        async def unread() -> bool:
            return any([await consumer.position(tp) < end for tp, end in ends.items()])

        while await unread():
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    try:
                        letter = DeadLetter.model_validate_json(record.value)
                    except ValueError:
                        print(f"skipping unreadable dead letter at offset {record.offset}", file=sys.stderr)
                        continue
                    if keep(letter):
                        letters.append(letter)
        return letters
    finally:
        await consumer.stop()


def payload_bytes(letter: DeadLetter) -> bytes:
    if letter.payload_encoding == "base64":
        return base64.b64decode(letter.payload)
    return letter.payload.encode("utf-8")


async def replay(bootstrap: str, letters: list[DeadLetter], webhook: str | None) -> int:
    from .kafka import make_producer

    replayed = 0
    producer = make_producer(CommonSettings(kafka_bootstrap=bootstrap), "deadletter-replay")
    await producer.start()
    try:
        for letter in letters:
            if letter.topic:
                key = letter.key.encode("utf-8") if letter.key else None
                await producer.send_and_wait(letter.topic, payload_bytes(letter), key=key)
                replayed += 1
            elif webhook:
                import httpx

                async with httpx.AsyncClient(timeout=10) as client:
                    response = await client.post(webhook, content=payload_bytes(letter), headers=letter.headers)
                print(f"{letter.dead_letter_id}: webhook answered {response.status_code}")
                replayed += response.status_code < 300
            else:
                print(f"{letter.dead_letter_id}: no topic (from {letter.source}); pass --webhook to re-post it")
    finally:
        await producer.stop()
    return replayed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="socialops-deadletter", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["list", "replay"])
    parser.add_argument("--source", help="only dead letters from this source, e.g. archive.consumer")
    parser.add_argument("--since", type=datetime.fromisoformat, help="only those failed at/after (ISO 8601 with offset)")
    parser.add_argument("--id", action="append", dest="ids", help="only these dead-letter ids")
    parser.add_argument("--webhook", help="for ingest dead letters: the ingest URL to post the raw body to")
    args = parser.parse_args(argv)
    bootstrap = CommonSettings().kafka_bootstrap

    def keep(letter: DeadLetter) -> bool:
        return (
            (args.source is None or letter.source == args.source)
            and (args.since is None or letter.failed_at >= args.since)
            and (not args.ids or letter.dead_letter_id in args.ids)
        )

    letters = asyncio.run(read_dead_letters(bootstrap, keep))
    if args.command == "list":
        for letter in letters:
            print(json.dumps({k: v for k, v in letter.model_dump(mode="json").items() if k != "payload"}))
        print(f"{len(letters)} dead letters", file=sys.stderr)
        return 0
    count = asyncio.run(replay(bootstrap, letters, args.webhook))
    print(f"replayed {count} of {len(letters)} dead letters", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The traffic generator produces signed, realistic bodies that ingest reads back without loss."""

import re
from collections import Counter
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

from socialops_common.events import EventKind
from socialops_ingest.accounts import AccountDirectory, load_inventory
from socialops_ingest.intake import ADAPTERS, decode_and_normalize
from socialops_ingest.payloads import Secrets
from socialops_ingest.platforms import Context
from socialops_ingest.traffic import TrafficGenerator, personnummer

ACCOUNTS = load_inventory(Path(__file__).resolve().parents[4] / "config" / "accounts.yaml")
SECRETS = Secrets("meta-secret", "x-secret", "li-secret")
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _luhn_ok(number: str) -> bool:
    digits = number.replace("-", "")[-10:]
    total = 0
    for index, char in enumerate(digits):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product // 10 + product % 10
    return total % 10 == 0


def test_personnummer_are_checksum_valid():
    import random
    rng = random.Random(1)
    assert all(_luhn_ok(personnummer(rng)) for _ in range(200))


def test_every_delivery_is_signed_and_gives_exactly_the_events_it_announces():
    directory = AccountDirectory(ACCOUNTS)
    ctx = Context(received_at=START, is_known_account=directory.is_known)
    kinds: Counter = Counter()
    texts = []
    unknown = 0
    for delivery in islice(TrafficGenerator(ACCOUNTS, SECRETS, seed=7).deliveries(START, batch=3), 600):
        adapter = ADAPTERS[delivery.platform]
        adapter.verify(delivery.body, delivery.headers[adapter.signature_header], adapter.secret(_settings()))
        normalized, reasons = decode_and_normalize(adapter, delivery.body, ctx)
        assert reasons == [] and normalized.ignored == []
        assert len(normalized.events) == delivery.events == 3
        kinds.update(e.kind for e in normalized.events)
        texts.extend(e.text or "" for e in normalized.events)
        unknown += sum(not e.account_known for e in normalized.events)
    expected = {EventKind.COMMENT_CREATED, EventKind.REPLY_BY_ACCOUNT, EventKind.COMMENT_EDITED,
                EventKind.COMMENT_DELETED_BY_AUTHOR, EventKind.COMMENT_HIDDEN, EventKind.DM_RECEIVED,
                EventKind.DM_SENT, EventKind.POST_PUBLISHED, EventKind.MENTION}
    assert expected <= set(kinds)
    joined = "\n".join(texts)
    assert any(_luhn_ok(n) for n in re.findall(r"\d{6}-\d{4}", joined))  # personal data to catch
    assert re.search(r"07\d-\d{3} \d\d \d\d", joined) and "@gmail.com" in joined
    assert "https://" in joined and "Vänliga hälsningar" in joined
    spam = Counter(t for t in texts if "💰" in t or "🎁" in t)
    assert spam and max(spam.values()) > 1  # repeated posts by the same user
    assert 0 < unknown < len(texts) * 0.1


def test_the_same_seed_gives_the_same_stream():
    first = [d.body for d in islice(TrafficGenerator(ACCOUNTS, SECRETS, seed=3).deliveries(START), 50)]
    again = [d.body for d in islice(TrafficGenerator(ACCOUNTS, SECRETS, seed=3).deliveries(START), 50)]
    other = [d.body for d in islice(TrafficGenerator(ACCOUNTS, SECRETS, seed=4).deliveries(START), 50)]
    assert first == again != other


def _settings():
    from socialops_ingest.settings import IngestSettings

    return IngestSettings(meta_app_secret=SECRETS.meta_app_secret, x_consumer_secret=SECRETS.x_consumer_secret,
                          linkedin_client_secret=SECRETS.linkedin_client_secret)


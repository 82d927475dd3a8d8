"""The account inventory: which accounts the cities run, who owns them, and how they are archived.

Stockholm's policy asks that "kartläggningen av alla stadens konton hålls uppdaterad" (seed 000,
"Remissen"); Helsingborg's guideline names the owning förvaltning and its editors for every account
(seed 001, "Ansvarsfördelning och kriterier för konto"). The inventory is a YAML file kept in
version control; ingest publishes it to `social.accounts.v1` (compacted, one record per account)
so every service knows the accounts, and flags events for accounts missing from it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from socialops_common.events import AccountRecord, Platform, utc_now
from socialops_common.kafka import to_bytes
from socialops_common.topics import ACCOUNTS

from .publisher import EventPublisher, Record


class InventoryError(ValueError):
    """The inventory file is not a list of valid accounts (the message names the bad entry)."""


def parse_inventory(document: Any) -> list[AccountRecord]:
    """Validate a decoded YAML document: `{"accounts": [ {platform, external_id, ...}, ... ]}`."""
    if not isinstance(document, dict) or not isinstance(document.get("accounts"), list):
        raise InventoryError("the inventory must be a mapping with an 'accounts' list")
    now = utc_now()
    records: list[AccountRecord] = []
    seen: set[bytes] = set()
    for index, item in enumerate(document["accounts"]):
        if not isinstance(item, dict):
            raise InventoryError(f"accounts[{index}] is not a mapping")
        try:
            record = AccountRecord.model_validate({"updated_at": now, **item, "external_id": str(item.get("external_id", ""))})
        except ValidationError as error:
            raise InventoryError(f"accounts[{index}] ({item.get('name')!r}): {error}") from error
        if not record.external_id:
            raise InventoryError(f"accounts[{index}] ({record.name!r}) has no external_id")
        if record.key in seen:
            raise InventoryError(f"accounts[{index}] repeats {record.key.decode()}")
        seen.add(record.key)
        records.append(record)
    return records


# In a checkout (make run, tests), a relative inventory path also resolves against the repository root.
REPOSITORY_ROOT = Path(__file__).resolve().parents[4]


def inventory_path(configured: str | Path) -> Path:
    path = Path(configured)
    if not path.exists() and not path.is_absolute() and (REPOSITORY_ROOT / path).exists():
        return REPOSITORY_ROOT / path
    return path


def load_inventory(path: str | Path) -> list[AccountRecord]:
    with open(inventory_path(path), encoding="utf-8") as handle:
        return parse_inventory(yaml.safe_load(handle))


class AccountDirectory:
    """Answers "is this one of our accounts?" for normalisation (pure, in memory)."""

    def __init__(self, records: Iterable[AccountRecord] = ()) -> None:
        self.records = list(records)
        self._known = {(r.platform, r.external_id) for r in self.records}

    def is_known(self, platform: Platform, account_id: str) -> bool:
        return (platform, account_id) in self._known

    def __len__(self) -> int:
        return len(self.records)


def inventory_records(records: Iterable[AccountRecord]) -> list[Record]:
    return [Record(ACCOUNTS, record.key, to_bytes(record)) for record in records]


async def publish_inventory(publisher: EventPublisher, records: list[AccountRecord]) -> None:
    """Every account to the compacted topic, acknowledged by the broker (`BrokerUnavailable` if not)."""
    await publisher.publish(inventory_records(records))

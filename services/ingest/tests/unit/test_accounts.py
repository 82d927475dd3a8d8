"""The account inventory file: validated, one record per account, unknown accounts answered as such."""

import re
from pathlib import Path

import pytest
from socialops_common.events import AccountStatus, ArchiveLevel, Platform
from socialops_ingest.accounts import AccountDirectory, InventoryError, load_inventory, parse_inventory

INVENTORY = Path(__file__).resolve().parents[4] / "config" / "accounts.yaml"


def test_the_sample_inventory_covers_both_cities_and_every_platform():
    records = load_inventory(INVENTORY)
    assert {r.platform for r in records} == set(Platform)
    assert any("Helsingborg" in r.name for r in records) and any("Stockholm" in r.name for r in records)
    closed = [r for r in records if r.status is AccountStatus.CLOSED]
    assert closed and all(r.closed_date is not None and r.archive_level is ArchiveLevel.FULL for r in closed)
    assert all(r.department and r.editors and r.decision_reference and r.start_date for r in records)


def test_directory_knows_accounts_by_platform_and_id():
    directory = AccountDirectory(load_inventory(INVENTORY))
    assert directory.is_known(Platform.FACEBOOK, "104857600000001")
    assert not directory.is_known(Platform.INSTAGRAM, "104857600000001")  # same id, other platform
    assert not directory.is_known(Platform.FACEBOOK, "1")


@pytest.mark.parametrize(("document", "message"), [
    ({"accounts": [{"platform": "myspace", "external_id": "1", "name": "x", "department": "d"}]}, "accounts[0]"),
    ({"accounts": [{"platform": "x", "external_id": "1", "name": "a", "department": "d"},
                   {"platform": "x", "external_id": 1, "name": "b", "department": "d"}]}, "repeats x:1"),
    ({"accounts": [{"platform": "x", "name": "a", "department": "d"}]}, "no external_id"),
    ([], "'accounts' list"),
])
def test_a_bad_inventory_is_refused_with_the_entry_named(document, message):
    with pytest.raises(InventoryError, match=re.escape(message)):
        parse_inventory(document)

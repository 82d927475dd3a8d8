"""`socialops-ingest accounts publish` puts every account on the compacted topic, keyed by account."""

import asyncio

from socialops_common.testing import read_topic
from socialops_common.topics import ACCOUNTS
from socialops_ingest.cli import main


def test_accounts_publish_command(fresh_broker, settings_for, monkeypatch, capsys):
    accounts_file = settings_for(fresh_broker.bootstrap).accounts_file
    monkeypatch.setenv("SOCIALOPS_KAFKA_BOOTSTRAP", fresh_broker.bootstrap)
    assert main(["accounts", "publish", "--file", accounts_file]) == 0
    assert "published 12 accounts" in capsys.readouterr().out
    found = asyncio.run(read_topic(fresh_broker.bootstrap, ACCOUNTS, expected=12))
    assert len(found) == 12  # this broker is the test's own: exactly the inventory
    assert all(key == f"{value['platform']}:{value['external_id']}".encode() for key, value in found)

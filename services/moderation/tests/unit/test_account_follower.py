"""The account follower's handler on FastStream's in-memory broker (the real broker: test_pipeline.py)."""

from __future__ import annotations

from faststream.kafka import KafkaBroker, TestKafkaBroker
from socialops_common.events import AccountRecord, Platform
from socialops_common.kafka import to_bytes
from socialops_common.topics import ACCOUNTS
from socialops_moderation.accounts import AccountPolicies


async def test_the_latest_record_of_each_account_wins_and_garbage_teaches_nothing() -> None:
    policies, broker = AccountPolicies(), KafkaBroker()
    policies.subscribe(broker)  # no producer: nothing to dead-letter to in memory
    first = AccountRecord(platform=Platform.FACEBOOK, external_id="104", name="Fritid", department="Fritid",
                          moderation_policy="review_first")
    later = first.model_copy(update={"moderation_policy": None, "department": "Kulturförvaltningen"})
    other = AccountRecord(platform=Platform.X, external_id="104", name="@fritid", department="Fritid",
                          moderation_policy="strict")
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(to_bytes(first), ACCOUNTS, key=first.key)
        assert policies.policy_for("facebook", "104") == "review_first"
        await test_broker.publish(b'{"not": "an account"}', ACCOUNTS, key=first.key)
        await test_broker.publish(to_bytes(other), ACCOUNTS, key=other.key)
        await test_broker.publish(to_bytes(later), ACCOUNTS, key=later.key)
    assert policies.policy_for("facebook", "104") is None  # the later record took the override away
    assert policies.record_for("facebook", "104").department == "Kulturförvaltningen"
    assert policies.policy_for("x", "104") == "strict"  # the same id on another platform is another account
    assert policies.policy_for("facebook", "999") is None

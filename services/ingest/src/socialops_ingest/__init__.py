"""ingest: the platforms' webhooks in, canonical social events on Kafka out. Start at `service.py`."""

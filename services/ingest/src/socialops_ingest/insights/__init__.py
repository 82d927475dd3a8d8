"""The insights poller: the platforms' statistics read on a schedule, as metric snapshots (issue 15).

Why in ingest: ingest is the one writer of platform events; the poller reuses its publisher
(acks=all), its inventory loader and its metric registry conventions, and runs as its own process
(`socialops-ingest poll`, one replica) so that webhooks scale apart from it.

    config.py      metrics.yaml: platform metric -> canonical snapshot field
    window.py      which days and posts a poll reads (re-poll window, backfill, catch-up)
    client.py      GET with retries; tokens, rate limits, invalid metrics and outages told apart
    graph.py       Meta's errors, paging and insights requests (one invalid metric never loses the rest)
    facebook.py / instagram.py / linkedin.py / x.py   each platform's documented requests
    readings.py    figures -> `metrics.snapshot` events with deterministic snapshot and version ids
    poller.py      the schedule, the status per account on social.insights.v1
    service.py     the process: /metrics /healthz /readyz and the loop
    fakes.py       local servers speaking the four APIs (make run, tests)
"""

"""The console's search page: server time p50/p95 over an archive of N items, against the archive API
it calls measured in the same run (target: p95 < 300 ms at 1,000,000 items).

    .venv/bin/python bench/console_search.py                  # 20,000 items (about a minute)
    .venv/bin/python bench/console_search.py --items 1000000  # the issue's size (long: the load)

Loads the items as bench/archive.py does (through Kafka into a fresh database, then ANALYZE), starts the
archive and the console as processes and the local identity provider, signs in as a registrar through
the real OpenID Connect flow, then asks for search pages: free text alone, and text with an account
and a month. Server time is the console's own `Server-Timing` (the archive API call included); the
reference is the same query straight to the archive API. Shared 2-core machine: quote ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

import asyncpg
import httpx
from archive import WORDS, archive_from_kafka, make_events, percentile, produce
from socialops_common.devstack import (
    LocalBroker,
    LocalDatabase,
    free_port,
    service_environment,
    wait_for_port,
)
from socialops_common.kafka import ensure_topics
from socialops_common.local_idp import LOCAL_AUDIENCE, LocalIdentityProvider
from socialops_common.observability import configure_logging

BIN = Path(sys.executable).parent


def sign_in(console: str, subject: str) -> httpx.Client:
    """A browser's sign-in, by hand: console → provider → the person chosen → back with a session."""
    client = httpx.Client(timeout=60)
    redirect = client.get(console + "/", follow_redirects=False)
    authorize = redirect.headers["location"]
    answer = client.post(authorize, data={"sub": subject}, follow_redirects=False)
    client.get(answer.headers["location"], follow_redirects=True)
    assert client.get(console + "/", follow_redirects=False).status_code == 200, "not signed in"
    return client


def server_ms(response: httpx.Response) -> float:
    timing = response.headers.get("server-timing", "app;dur=nan")
    return float(timing.split("dur=")[1])


def queries(count: int, accounts: int, seed: int = 11) -> list[dict[str, str]]:
    rng = random.Random(seed)
    found = []
    for n in range(count):
        query = {"q": rng.choice(WORDS)}
        if n % 2:
            month = rng.randint(1, 11)
            query.update({"account": f"acc-{rng.randrange(accounts)}", "from": f"2026-{month:02d}-01",
                          "to": f"2026-{month:02d}-28"})
        found.append(query)
    return found


def start(command: list[str], env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    wait_for_port("127.0.0.1", port, timeout=120)
    return process


def measure(console: str, archive: str, args: argparse.Namespace) -> None:
    """Search pages as a signed-in registrar, each followed by the same query to the archive API."""
    from socialops_console.pages_archive import search_query  # the page's own form → query mapping

    browser = sign_in(console, "rolf.registrator")
    api = httpx.Client(base_url=archive, timeout=60, headers={"Authorization": "Bearer bench-token"})
    page_ms: list[float] = []
    page_wall_ms: list[float] = []
    api_ms: list[float] = []
    for query in queries(5, args.accounts):  # warm-up: connections, caches, plans
        browser.get(f"{console}/arkiv/sok?{urlencode(query)}")
    for query in queries(args.queries, args.accounts):
        began = time.perf_counter()
        response = browser.get(f"{console}/arkiv/sok?{urlencode(query)}")
        page_wall_ms.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200 and "Träffar" in response.text, response.status_code
        page_ms.append(server_ms(response))
        began = time.perf_counter()
        reference = api.get("/items", params={**search_query(query), "limit": 25, "offset": 0})
        api_ms.append((time.perf_counter() - began) * 1000)
        assert reference.status_code == 200
    for label, values in (("search page, console server time", page_ms),
                          ("search page, as the browser waits", page_wall_ms),
                          ("archive API alone (reference)", api_ms)):
        print(f"{label}: p50 {percentile(values, 50):.1f} ms, p95 {percentile(values, 95):.1f} ms "
              f"({len(values)} queries)")
    print(f"console / API at p95: {percentile(page_ms, 95) / percentile(api_ms, 95):.2f}; "
          f"target p95 < 300 ms at 1,000,000 items: "
          f"{'met' if percentile(page_ms, 95) < 300 else 'not met'} at {args.items:,} items")


async def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args(argv)
    configure_logging("console-bench", "WARNING", "console")

    broker = LocalBroker().start()
    database = await asyncio.to_thread(LocalDatabase.find_or_start)
    name = f"console_bench_{uuid.uuid4().hex[:8]}"
    processes: list[subprocess.Popen] = []
    workdir = Path(os.environ.get("TMPDIR", "/tmp")) / name
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        await ensure_topics(broker.bootstrap)
        dsn = await database.create_database(name)
        events = make_events(args.items, args.accounts)
        count = len(events)
        await produce(broker.bootstrap, events)
        del events
        gc.collect()
        archive_s, _ = await archive_from_kafka(broker, dsn, count, 2000, 2)
        print(f"{args.items:,} items ({count:,} events) archived in {archive_s:.0f} s")
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute("ANALYZE")
        finally:
            await connection.close()

        idp = LocalIdentityProvider(free_port())
        with idp.running():
            archive_port, console_port = free_port(), free_port()
            env = service_environment(broker.bootstrap, dsn, SOCIALOPS_OIDC_ISSUER=idp.issuer,
                                      SOCIALOPS_OIDC_AUDIENCE=LOCAL_AUDIENCE, SOCIALOPS_LOG_LEVEL="WARNING",
                                      SOCIALOPS_MACHINE_TOKENS="bench:registrar:bench-token",
                                      SOCIALOPS_ARCHIVE_URL=f"http://127.0.0.1:{archive_port}",
                                      SOCIALOPS_CONSOLE_SECURE_COOKIES="false", SOCIALOPS_SMTP_PORT="1",
                                      SOCIALOPS_OIDC_CLIENT_SECRET="bench-console-secret",
                                      SOCIALOPS_ARCHIVE_GROUP_ID=f"bench-api-{name}")
            processes.append(start([str(BIN / "socialops-archive"), "serve", "--port", str(archive_port)], env,
                                   archive_port, workdir / "archive.log"))
            processes.append(start([str(BIN / "socialops-console"), "serve", "--port", str(console_port)],
                                   dict(env, SOCIALOPS_HTTP_PORT=str(console_port)), console_port,
                                   workdir / "console.log"))
            await asyncio.to_thread(measure, f"http://127.0.0.1:{console_port}", f"http://127.0.0.1:{archive_port}",
                                    args)
    finally:
        for process in processes:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
        await database.drop_database(name)
        broker.stop()
        database.stop()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))

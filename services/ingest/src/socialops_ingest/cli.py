"""`socialops-ingest`: serve the webhooks, poll the insights, publish the account inventory, import, simulate."""

from __future__ import annotations

import argparse
import asyncio
import sys

from socialops_common.observability import configure_logging, serve_http

from .settings import IngestSettings


def _serve(args: argparse.Namespace, settings: IngestSettings) -> int:
    from .service import create_app

    configure_logging("ingest", settings.log_level, settings.log_format)
    return serve_http(create_app(settings), host=args.host or settings.http_host,
                      port=args.port or settings.http_port, log_config=None, access_log=False)


def _poll(args: argparse.Namespace, settings: IngestSettings) -> int:
    configure_logging("insights", settings.log_level, settings.log_format)
    if args.once:
        from .insights.config import load_config
        from .insights.poller import InsightsPoller
        from .publisher import EventPublisher

        async def once() -> str:
            publisher = EventPublisher(settings, timeout_s=max(settings.publish_timeout_s, 10.0), service="insights")
            poller = InsightsPoller(settings, publisher, load_config(settings.insights_metrics_file))
            try:
                await poller.restore()
                return (await poller.run_cycle()).summary()
            finally:
                await poller.http.close()
                await publisher.stop()

        print(asyncio.run(once()))
        return 0
    from .insights.service import create_poller_app

    return serve_http(create_poller_app(settings), host=args.host or settings.http_host,
                      port=args.port or 8085, log_config=None, access_log=False)


def _fake_platforms(args: argparse.Namespace, settings: IngestSettings) -> int:
    import uvicorn

    from .accounts import load_inventory
    from .insights.fakes import FakePlatforms

    fakes = FakePlatforms(load_inventory(args.file or settings.accounts_file))
    uvicorn.run(fakes.app, host=args.host, port=args.port, log_level="warning", access_log=False, lifespan="off")
    return 0


def _accounts_publish(args: argparse.Namespace, settings: IngestSettings) -> int:
    from .accounts import load_inventory, publish_inventory
    from .publisher import EventPublisher

    records = load_inventory(args.file or settings.accounts_file)

    async def run() -> None:
        publisher = EventPublisher(settings, timeout_s=max(settings.publish_timeout_s, 10.0))
        try:
            await publish_inventory(publisher, records)
        finally:
            await publisher.stop()

    asyncio.run(run())
    print(f"published {len(records)} accounts to social.accounts.v1 on {settings.kafka_bootstrap}")
    return 0


def _import(args: argparse.Namespace, settings: IngestSettings) -> int:
    from .replay import import_file

    report = asyncio.run(import_file(args.file, settings))
    print(report.summary())
    return 0 if report.ok else 1


def _simulate(args: argparse.Namespace, settings: IngestSettings) -> int:
    from .simulate import run_simulation

    report = asyncio.run(run_simulation(settings, target=args.target, rate=args.rate, duration=args.duration,
                                        seed=args.seed, batch=args.batch))
    print(report.summary())
    return 0 if report.ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="socialops-ingest", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the webhook receivers (HTTP)")
    serve.add_argument("--port", type=int, default=None, help="default: SOCIALOPS_HTTP_PORT or 8080")
    serve.add_argument("--host", default=None, help="default: SOCIALOPS_HTTP_HOST or 127.0.0.1 (containers pass 0.0.0.0)")
    serve.set_defaults(handler=_serve)

    poll = commands.add_parser("poll", help="poll the platforms' insights APIs on a schedule (serves /metrics)")
    poll.add_argument("--port", type=int, default=None, help="default: 8085")
    poll.add_argument("--host", default=None, help="default: SOCIALOPS_HTTP_HOST or 127.0.0.1 (containers pass 0.0.0.0)")
    poll.add_argument("--once", action="store_true", help="one cycle over the inventory, then exit")
    poll.set_defaults(handler=_poll)

    fakes = commands.add_parser("fake-platforms", help="local servers speaking the four insights APIs (development)")
    fakes.add_argument("--port", type=int, default=8089)
    fakes.add_argument("--host", default="127.0.0.1")
    fakes.add_argument("--file", default=None, help="the inventory whose accounts they know (default: SOCIALOPS_ACCOUNTS_FILE)")
    fakes.set_defaults(handler=_fake_platforms)

    accounts = commands.add_parser("accounts", help="the account inventory")
    accounts_commands = accounts.add_subparsers(dest="accounts_command", required=True)
    publish = accounts_commands.add_parser("publish", help="publish the inventory to social.accounts.v1")
    publish.add_argument("--file", default=None, help="default: SOCIALOPS_ACCOUNTS_FILE")
    publish.set_defaults(handler=_accounts_publish)

    importer = commands.add_parser(
        "import", help="replay an NDJSON file: canonical events, or recorded signed webhooks (see docs/platforms.md)"
    )
    importer.add_argument("file")
    importer.set_defaults(handler=_import)

    simulate = commands.add_parser("simulate", help="send realistic, signed webhooks to a running ingest")
    simulate.add_argument("--rate", type=float, default=20.0, help="events per second")
    simulate.add_argument("--duration", type=float, default=10.0, help="seconds")
    simulate.add_argument("--target", default="http://127.0.0.1:8080", help="base URL of ingest")
    simulate.add_argument("--seed", type=int, default=None, help="repeat a stream exactly (default: a new one)")
    simulate.add_argument("--batch", type=int, default=1, help="events per webhook POST (platforms batch)")
    simulate.set_defaults(handler=_simulate)

    args = parser.parse_args(argv)
    return args.handler(args, IngestSettings())


if __name__ == "__main__":
    sys.exit(main())

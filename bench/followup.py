"""Follow-up benchmark: the monthly KPIs and report data for a city of 15,000 accounts × 13 months.

    .venv/bin/python bench/followup.py                      # 1,500 accounts: a quick look (~30 s)
    .venv/bin/python bench/followup.py --accounts 15000     # issue 15's size (the fill takes ~6 min)

Against its own database (PostgreSQL on 127.0.0.1:5432 or an embedded one), with the SLA
service's own tables (migrations) and code:
1. fills them server-side (generate_series) with 14 months of what the poller and the events
   leave there: a daily row per account (reach on Facebook, Instagram and LinkedIn, followers,
   follows), LinkedIn's monthly reach, a post every two days with its lifetime figures, our own
   posts, questions with their outcome (met, breached) and comments, some removed by moderation;
   Then the monthly sums the consumer keeps up to date as figures arrive (`SlaStore.refresh_months`),
   for every account and month;
2. measures the city's report data for a month, as `GET /reports/monthly` computes it: the queries
   (`report.load_figures`, 13 months + the baseline month: the monthly sums, and the items grouped
   by month), then the KPI definitions and roll-ups in Python (`report.report_data`: every account ×
   month, every department, the city), then the JSON; and, apart, the city's PDF;
3. measures a reference in the same run: one sequential pass over the same tables
   (`count(*)` of each), so the ratio can be compared from day to day on a shared machine.
Target (issue 15): KPIs and report data in under 60 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from datetime import UTC, datetime

import asyncpg
from socialops_common.devstack import LocalDatabase
from socialops_common.events import AccountRecord, Platform
from socialops_common.observability import tune_garbage_collector
from socialops_sla.followup import months_back
from socialops_sla.report import PollView, load_figures, report_data, report_json, scope_for
from socialops_sla.report_pdf import render_report
from socialops_sla.store import SlaStore, migrate

MONTH = "2026-11"
PLATFORMS = ("facebook", "instagram", "linkedin", "x")


def inventory(accounts: int, departments: int) -> list[AccountRecord]:
    return [AccountRecord(platform=Platform(PLATFORMS[n % 4]), external_id=f"acc{n}", name=f"Konto {n}",
                          department=f"Förvaltning {n % departments:03d}") for n in range(accounts)]


FILL = [
    # accounts
    """INSERT INTO sla_accounts (platform, external_id, name, department, status, response_calendar,
                                 response_target_hours, first_seen_at)
       SELECT (ARRAY['facebook','instagram','linkedin','x'])[n % 4 + 1], 'acc' || n, 'Konto ' || n,
              'Förvaltning ' || lpad((n % $2)::text, 3, '0'), 'active', 'business', 24, '2024-01-01'
       FROM generate_series(0, $1 - 1) n""",
    # a day per account: X has only followers; LinkedIn page views; everyone follows
    """INSERT INTO sla_account_days (platform, account_id, day, reach, impressions, followers, new_followers,
                                     lost_followers, page_views, updated_at)
       SELECT a.platform, a.external_id, d::date,
              CASE WHEN a.platform <> 'x' THEN (500 + random() * 1000)::bigint END,
              CASE WHEN a.platform <> 'x' THEN (1500 + random() * 3000)::bigint END,
              (2000 + extract(doy FROM d) * 3)::bigint,
              CASE WHEN a.platform <> 'x' THEN (random() * 20)::bigint END,
              CASE WHEN a.platform IN ('facebook', 'instagram') THEN (random() * 8)::bigint END,
              CASE WHEN a.platform = 'linkedin' THEN (random() * 200)::bigint END, now()
       FROM sla_accounts a, generate_series('2025-10-01'::date, '2026-11-30'::date, '1 day') d""",
    """INSERT INTO sla_account_months (platform, account_id, month, reach, updated_at)
       SELECT a.platform, a.external_id, m::date, (8000 + random() * 8000)::bigint, now()
       FROM sla_accounts a, generate_series('2025-10-01'::date, '2026-11-01'::date, '1 month') m
       WHERE a.platform = 'linkedin'""",
    # a post every two days, with its lifetime figures, and as one of our posts
    """INSERT INTO sla_post_figures (platform, account_id, post_id, published_at, as_of, reach, impressions,
                                     video_views, link_clicks, reactions, comments, shares, saves, updated_at)
       SELECT a.platform, a.external_id, a.external_id || '_' || to_char(d, 'YYYYMMDD'), d + interval '10 hours',
              (d + interval '4 days')::date,
              CASE WHEN a.platform <> 'x' THEN (1000 + random() * 2000)::bigint END,
              (1500 + random() * 3000)::bigint,
              CASE WHEN a.platform IN ('facebook', 'instagram') THEN (random() * 900)::bigint END,
              CASE WHEN a.platform IN ('facebook', 'x') THEN (random() * 40)::bigint END,
              (random() * 80)::bigint, (random() * 15)::bigint, (random() * 8)::bigint,
              CASE WHEN a.platform IN ('instagram', 'x') THEN (random() * 6)::bigint END, now()
       FROM sla_accounts a, generate_series('2025-10-01'::timestamptz, '2026-11-30'::timestamptz, '2 days') d""",
    """INSERT INTO sla_posts (platform, account_id, item_id, event_id, published_at, late_friday)
       SELECT platform, account_id, post_id, post_id, published_at,
              extract(isodow FROM published_at AT TIME ZONE 'Europe/Stockholm') = 5
       FROM sla_post_figures""",
    # about 5 comments a month per account, one in three a question with its outcome; a few removed
    """INSERT INTO sla_items (platform, account_id, item_id, event_id, thread_id, item_kind, occurred_at, state,
                              department, deadline, answered_at, response_working_seconds, response_wall_seconds)
       SELECT a.platform, a.external_id, a.external_id || ':c' || n, a.external_id || ':c' || n, 't',
              'comment.created', '2025-10-01'::timestamptz + n * interval '6 days',
              CASE WHEN n % 3 = 0 THEN (CASE WHEN random() < 0.85 THEN 'met' ELSE 'breached' END) END, a.department,
              '2025-10-02'::timestamptz + n * interval '6 days',
              CASE WHEN n % 3 = 0 THEN '2025-10-01'::timestamptz + n * interval '6 days' + interval '3 hours' END,
              CASE WHEN n % 3 = 0 THEN random() * 30000 END, CASE WHEN n % 3 = 0 THEN random() * 80000 END
       FROM sla_accounts a, generate_series(0, 70) n""",
    """INSERT INTO sla_verdicts (platform, account_id, item_id, thread_id, decision_id, needs_answer, action,
                                 decided_at, rule)
       SELECT platform, account_id, item_id, thread_id, item_id, false, 'hide', occurred_at,
              (ARRAY['personal_data.phone', 'abuse.insult', 'spam.repeat'])[(hashtext(item_id) & 3) % 3 + 1]
       FROM sla_items WHERE hashtext(item_id) % 40 = 0""",
    """INSERT INTO sla_insights_status (platform, account_id, state, covered_until, covered_since,
                                        posts_covered_since, updated_at)
       SELECT platform, external_id, CASE WHEN external_id LIKE '%7' THEN 'no_token' ELSE 'ok' END, '2026-11-30',
              '2025-09-01', '2025-09-01', now() FROM sla_accounts""",
    "ANALYZE",
]
TABLES = ("sla_account_days", "sla_account_months", "sla_post_figures", "sla_posts", "sla_items", "sla_verdicts",
          "sla_day_figures_by_month", "sla_post_figures_by_month", "sla_posts_by_month")


async def run(args: argparse.Namespace, database: LocalDatabase) -> None:
    name = args.database or f"bench_followup_{uuid.uuid4().hex[:8]}"
    dsn = database.dsn_for(name) if args.database else await database.create_database(name)
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=6)  # as the SLA service's
    try:
        started = time.perf_counter()
        if not args.database:
            await migrate(pool)
            for statement in FILL:
                async with pool.acquire() as connection:
                    if "$1" in statement:
                        await connection.execute(statement, args.accounts, args.departments)
                    else:
                        await connection.execute(statement)
            # the monthly sums the consumer keeps as figures arrive, for every account and month at once
            months = months_back(MONTH, 14)
            keys = [(PLATFORMS[n % 4], f"acc{n}", m) for n in range(args.accounts) for m in months]
            for start in range(0, len(keys), 20_000):
                async with pool.acquire() as connection, connection.transaction():
                    await SlaStore.refresh_months(connection, keys[start:start + 20_000], keys[start:start + 20_000])
            await pool.execute("ANALYZE")
        sizes = {t: await pool.fetchval(f"SELECT count(*) FROM {t}") for t in TABLES}
        print(f"filled in {time.perf_counter() - started:.0f} s: " + ", ".join(f"{t} {n:,}" for t, n in sizes.items()))

        started = time.perf_counter()
        for table in TABLES:
            await pool.fetchval(f"SELECT count(*) FROM {table}")
        reference = time.perf_counter() - started

        tune_garbage_collector()  # as every service process does (serve_http)
        store = SlaStore(pool)
        accounts = inventory(args.accounts, args.departments)
        scope = scope_for(accounts)
        now = datetime(2026, 12, 4, 8, tzinfo=UTC)
        started = time.perf_counter()
        figures = await load_figures(store, months_back(MONTH, 14), scope.keys)
        queried = time.perf_counter() - started
        polling = {(r["platform"], r["account_id"]): PollView(r["state"], r["detail"], r["last_success_at"],
                                                              r["covered_since"], r["posts_covered_since"])
                   for r in await store.insights_statuses()}
        observed = await store.observed_since()
        started = time.perf_counter()
        data = report_data(MONTH, scope, figures, polling=polling, publishing=await store.publishing_states(),
                           observed_since=observed, now=now)
        computed = time.perf_counter() - started
        started = time.perf_counter()
        body = json.dumps(report_json(data))
        serialised = time.perf_counter() - started
        started = time.perf_counter()
        pdf = render_report(data, now)
        rendered = time.perf_counter() - started
        total = queried + computed + serialised
        cells = len(data.channel_trends) * len(data.months)
        print(f"reference: one pass over the tables {reference:.1f} s")
        print(f"grouped queries, 14 months: {queried:.1f} s ({queried / reference:.1f}x the reference)")
        print(f"KPIs and roll-ups in Python: {computed:.1f} s for {cells:,} account-months "
              f"({1e6 * computed / cells:.1f} µs each), {len(data.departments)} departments, the city")
        print(f"JSON: {serialised:.1f} s ({len(body) / 1e6:.1f} MB)")
        print(f"KPIs and report data: {total:.1f} s (target: under 60 s) -> {'met' if total < 60 else 'NOT met'}")
        print(f"the city's PDF, apart: {rendered:.1f} s, {len(pdf) / 1e3:.0f} kB")
        city = data.summary
        print(f"check: {city.accounts:,} accounts, {city.interactions:,} interactions, "
              f"{sum(r.accounts for r in city.reach_by_platform.values()):,} accounts with reach, "
              f"{len(data.not_polled()):,} not polled")
    finally:
        await pool.close()
        if args.keep or args.database:
            print(f"database kept: {name}")
        else:
            await database.drop_database(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1_500)
    parser.add_argument("--departments", type=int, default=150)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards (its name is printed)")
    parser.add_argument("--database", default=None, help="measure an existing database filled by --keep")
    args = parser.parse_args()
    database = LocalDatabase.find_or_start()  # before the event loop: it checks PostgreSQL with asyncio.run
    try:
        asyncio.run(run(args, database))
    finally:
        database.stop()


if __name__ == "__main__":
    main()

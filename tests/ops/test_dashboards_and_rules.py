"""ops/: dashboards and alert rules only use metrics that exist; promtool checks config and rules.

Moved here from services/sla/tests (issue 15): the rules now cover the insights poller's metrics
too (ingest), so the check knows every service's registry, which no one service's tests may import.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import yaml
from prometheus_client import CollectorRegistry
from prometheus_client.metrics import MetricWrapperBase
from socialops_common.lag import CONSUMER_LAG
from socialops_common.resilience import CIRCUIT_OPEN, POISONED, RETRIES
from socialops_common.testing import required_tool
from socialops_ingest import metrics as ingest_metrics
from socialops_sla.metrics import SlaMetrics

OPS = Path(__file__).resolve().parents[2] / "ops"
PROMQL_WORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", "and", "or", "unless",
    "inf", "nan",
}
PROMETHEUS_GENERATED = {"up", "scrape_duration_seconds", "scrape_samples_scraped"}


def metric_names(expr: str) -> set[str]:
    """Metric names used in a PromQL expression (Grafana variables allowed)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # range selectors
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)  # label lists
    text = re.sub(r"\$\{?\w+\}?", " ", text)  # $__range, $department
    names = set()
    for match in re.finditer(r"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?", text):
        word, call = match.group(1), match.group(2)
        if call or word.lower() in PROMQL_WORDS:
            continue  # a function or aggregation, or a keyword
        names.add(word)
    return names


def exported_names() -> set[str]:
    """Every sample name the SLA service's registry, ingest's (webhooks and the insights poller) and the
    shared lag and resilience metrics can expose."""
    registry = CollectorRegistry()
    SlaMetrics(registry)
    registry.register(CONSUMER_LAG)
    for shared in (CIRCUIT_OPEN, RETRIES, POISONED):  # the consumer's BatchGuard (socialops_common.resilience)
        registry.register(shared)
    for metric in vars(ingest_metrics).values():
        if isinstance(metric, MetricWrapperBase):
            registry.register(metric)
    suffixes = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count", "_created"),
                "gauge": ("",), "summary": ("_sum", "_count", "_created")}
    names = set()
    for family in registry.collect():
        names.update(family.name + suffix for suffix in suffixes[family.type])
    return names


def dashboard_queries() -> list[tuple[str, str]]:
    queries = []
    for path in sorted((OPS / "grafana" / "dashboards").glob("*.json")):
        board = json.loads(path.read_text(encoding="utf-8"))
        for panel in board["panels"]:
            for target in panel["targets"]:
                queries.append((f"{path.name}: {panel['title']}", target["expr"]))
        for variable in board["templating"]["list"]:
            inner = re.search(r"label_values\((.*),\s*\w+\)$", variable["query"]["query"])
            assert inner, variable
            queries.append((f"{path.name}: ${variable['name']}", inner.group(1)))
    return queries


def rule_queries() -> list[tuple[str, str]]:
    queries = []
    for path in sorted((OPS / "prometheus" / "rules").glob("*.yml")):
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            for rule in group["rules"]:
                queries.append((f"{path.name}: {rule.get('alert') or rule.get('record')}", rule["expr"]))
    return queries


def test_the_name_extractor_reads_promql() -> None:
    expr = ('sum by (department, le) (rate(foo_bucket{a="x", b=~"$d"}[5m])) / on (department) '
            'group_left bar_total + histogram_quantile(0.9, baz) > 0')
    assert metric_names(expr) == {"foo_bucket", "bar_total", "baz"}


def test_every_dashboard_and_alert_query_uses_exported_metrics() -> None:
    known = exported_names() | PROMETHEUS_GENERATED
    queries = dashboard_queries() + rule_queries()
    assert len(queries) > 20
    for where, expr in queries:
        used = metric_names(expr)
        assert used, f"{where}: no metric in {expr!r}"
        assert used <= known, f"{where}: not exported: {sorted(used - known)}"


def test_dashboards_are_provisioned_from_the_provisioned_datasource() -> None:
    datasource = yaml.safe_load((OPS / "grafana/provisioning/datasources/prometheus.yml").read_text())
    uid = datasource["datasources"][0]["uid"]
    provider = yaml.safe_load((OPS / "grafana/provisioning/dashboards/socialops.yml").read_text())
    assert provider["providers"][0]["options"]["path"].endswith("/dashboards")
    uids = set()
    for path in (OPS / "grafana" / "dashboards").glob("*.json"):
        board = json.loads(path.read_text(encoding="utf-8"))
        uids.add(board["uid"])
        ids = [panel["id"] for panel in board["panels"]]
        assert len(ids) == len(set(ids)), path
        for panel in board["panels"]:
            assert panel["datasource"]["uid"] == uid
            assert all(t["datasource"]["uid"] == uid for t in panel["targets"])
    assert {"socialops-sla", "socialops-channels"} <= uids


def test_scrape_config_covers_every_service() -> None:
    config = yaml.safe_load((OPS / "prometheus" / "prometheus.yml").read_text())
    targets = {t for job in config["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]}
    assert targets == {"ingest:8080", "moderation:8081", "sla:8082", "archive:8083", "console:8084", "insights:8085"}


def promtool() -> str:
    return required_tool("promtool", "apt-get install -y prometheus")


def test_promtool_checks_the_config() -> None:
    result = subprocess.run([promtool(), "check", "config", "prometheus.yml"], cwd=OPS / "prometheus",
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_alert_rule_tests() -> None:
    tests = sorted(str(p) for p in (OPS / "prometheus" / "tests").glob("*.yml"))
    assert tests
    result = subprocess.run([promtool(), "test", "rules", *tests], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(tests)

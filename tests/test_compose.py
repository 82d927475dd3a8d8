"""docker-compose.yml cannot run here (no Docker engine): parse it and check what operations rely on.

- every long-running container has a health check (one-shot jobs that others wait for with
  `service_completed_successfully` are exempt: they exit);
- every image is pinned to an exact version (no `latest`, no bare major);
- every SOCIALOPS_ variable the code reads is declared in .env.example, and compose sets no
  SOCIALOPS_ variable the code does not know (a typo would be silently ignored);
- the stack has what the SPEC asks: Kafka in KRaft mode, PostgreSQL with a volume, Prometheus
  mounting ops/prometheus, Grafana mounting ops/grafana, and the four services on 8080-8083;
- every long-running container restarts by itself and has CPU and memory limits;
- Prometheus sends alerts to the Alertmanager of the stack, whose config routes every alert to a
  receiver that mails through the SMTP relay of the stack; `promtool check config` passes;
- the topics job runs `socialops-topics` (a console script that exists), configured from .env;
- docker-compose.cluster.yml (an override) makes three KRaft brokers with replication factor 3
  and min.insync.replicas=2, and every client knows all three.
"""

from __future__ import annotations

import ast
import copy
import importlib
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml
from socialops_common.testing import required_tool

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
PINNED = re.compile(r"^[\w.\-/]+:(v?\d+\.\d+(\.\d+)?[\w.\-]*)(@sha256:[0-9a-f]{64})?$")
VARIABLE = re.compile(r"\bSOCIALOPS_[A-Z0-9_]+\b")
DECLARED = re.compile(r"^#?\s*(SOCIALOPS_[A-Z0-9_]+)=", re.MULTILINE)


def one_shot_jobs() -> set[str]:
    waited_for = set()
    for spec in SERVICES.values():
        depends = spec.get("depends_on") or {}
        if isinstance(depends, dict):
            waited_for |= {n for n, c in depends.items() if c.get("condition") == "service_completed_successfully"}
    return waited_for


def settings_variables() -> set[str]:
    """SOCIALOPS_ names of every field of every CommonSettings subclass in libs/ and services/."""
    names: set[str] = set()
    sources = [*ROOT.glob("libs/*/src/**/*.py"), *ROOT.glob("services/*/src/**/*.py")]
    for path in sources:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        classes = [node for node in tree.body if isinstance(node, ast.ClassDef)
                   and any(getattr(base, "id", None) in ("CommonSettings", "BaseSettings") for base in node.bases)]
        if not classes:
            continue
        parts = path.relative_to(ROOT).with_suffix("").parts
        module = importlib.import_module(".".join(parts[parts.index("src") + 1:]))
        for node in classes:
            names |= {f"SOCIALOPS_{field.upper()}" for field in getattr(module, node.name).model_fields}
    return names


def literal_variables() -> set[str]:
    """SOCIALOPS_ names written out in the services' and libraries' code (os.environ, docs)."""
    found: set[str] = set()
    for path in [*ROOT.glob("libs/*/src/**/*.py"), *ROOT.glob("services/*/src/**/*.py")]:
        found |= set(VARIABLE.findall(path.read_text(encoding="utf-8")))
    return {name for name in found if not name.startswith("SOCIALOPS_TEST_")}


def test_every_long_running_container_has_a_health_check():
    exempt = one_shot_jobs()
    missing = [name for name, spec in SERVICES.items() if name not in exempt and "healthcheck" not in spec]
    assert missing == []
    for name in exempt:
        assert SERVICES[name].get("restart") == "no", f"{name} is waited for as a job but restarts"


def test_every_image_is_pinned_to_an_exact_version():
    for name, spec in SERVICES.items():
        image = spec.get("image")
        assert image, f"{name} has no image (services built here are tagged too)"
        assert PINNED.match(image), f"{name}: image {image!r} is not pinned to an exact version"
        assert not image.endswith(":latest")


def test_every_socialops_variable_the_code_reads_is_declared_in_env_example():
    declared = set(DECLARED.findall((ROOT / ".env.example").read_text(encoding="utf-8")))
    used = settings_variables() | literal_variables()
    assert {"SOCIALOPS_KAFKA_BOOTSTRAP", "SOCIALOPS_META_APP_SECRET", "SOCIALOPS_MAX_BODY_BYTES"} <= used
    assert sorted(used - declared) == [], "declare these in .env.example"
    in_compose = set(VARIABLE.findall((ROOT / "docker-compose.yml").read_text(encoding="utf-8")))
    assert sorted(in_compose - used) == [], "compose sets variables no code reads"
    assert sorted(declared - used) == [], ".env.example documents variables no code reads"


def test_the_stack_has_kafka_kraft_postgres_prometheus_grafana_and_the_four_services():
    kafka = SERVICES["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    assert "controller" in kafka["environment"]["KAFKA_PROCESS_ROLES"]
    assert any(v.endswith(":/var/lib/postgresql/data") for v in SERVICES["postgres"]["volumes"])
    assert "./ops/prometheus:/etc/prometheus:ro" in SERVICES["prometheus"]["volumes"]
    assert any(v.startswith("./ops/grafana:") for v in SERVICES["grafana"]["volumes"])
    for name, port in (("ingest", 8080), ("moderation", 8081), ("sla", 8082), ("archive", 8083)):
        spec = SERVICES[name]
        assert spec["build"]["dockerfile"] == "Dockerfile" and (ROOT / "Dockerfile").exists()
        assert spec["command"][:2] == [f"socialops-{name}", "serve"] and str(port) in spec["command"]
        assert f"{port}:{port}" in spec["ports"]
        assert spec["environment"]["SOCIALOPS_KAFKA_BOOTSTRAP"] == "kafka:9092"
        assert f"{port}/readyz" in " ".join(spec["healthcheck"]["test"])
        assert spec["env_file"] == ".env"
        assert spec["depends_on"]["kafka"]["condition"] == "service_healthy"


def test_the_dockerfile_installs_every_service_and_runs_the_chosen_one():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    base = re.search(r"^FROM (\S+)", dockerfile, re.MULTILINE).group(1)
    assert PINNED.match(base), base
    assert "constraints.txt" in dockerfile and "socialops-$SERVICE serve" in dockerfile
    assert "HEALTHCHECK" in dockerfile and "USER socialops" in dockerfile


def test_prometheus_scrapes_every_service_and_grafana_finds_its_provisioning():
    config = yaml.safe_load((ROOT / "ops" / "prometheus" / "prometheus.yml").read_text(encoding="utf-8"))
    targets = {t for job in config["scrape_configs"] for group in job.get("static_configs", [])
               for t in group["targets"]}
    for name in ("ingest", "moderation", "sla", "archive"):
        port = next(p for p in SERVICES[name]["ports"]).split(":")[-1]
        assert f"{name}:{port}" in targets
    provisioning = SERVICES["grafana"]["environment"]["GF_PATHS_PROVISIONING"]
    mount = next(v for v in SERVICES["grafana"]["volumes"] if v.startswith("./ops/grafana:"))
    inside = mount.split(":")[1]
    assert provisioning.startswith(inside) and (ROOT / "ops" / "grafana" / provisioning[len(inside) + 1:]).is_dir()


LONG_RUNNING = [name for name in SERVICES if name not in one_shot_jobs()]
CLUSTER_OVERRIDE = yaml.safe_load((ROOT / "docker-compose.cluster.yml").read_text(encoding="utf-8"))


def merge(base: object, override: object) -> object:
    """`docker compose -f a -f b`: mappings merge key by key, the override's scalars and lists win
    (compose also appends ports and volumes: not needed for what is checked here)."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = copy.deepcopy(base)
        for key, value in override.items():
            merged[key] = merge(base.get(key), value) if key in base else copy.deepcopy(value)
        return merged
    return copy.deepcopy(override)


CLUSTER = merge(COMPOSE, CLUSTER_OVERRIDE)["services"]


def test_every_long_running_container_restarts_and_has_resource_limits():
    for name in LONG_RUNNING:
        spec = SERVICES[name]
        assert spec.get("restart") in ("unless-stopped", "always"), name
        limits = spec.get("deploy", {}).get("resources", {}).get("limits", {})
        assert {"cpus", "memory"} <= set(limits), f"{name} has no CPU/memory limits"
        assert re.fullmatch(r"\d+(\.\d+)?", str(limits["cpus"])) and re.fullmatch(r"\d+[mg]", limits["memory"])


def test_the_services_get_time_to_finish_their_batch_on_stop():
    for name in ("ingest", "moderation", "sla", "archive"):
        grace = SERVICES[name]["stop_grace_period"]
        assert int(grace.rstrip("s")) >= 15, f"{name}: docker's default 10 s kill may cut a batch"


def test_secrets_come_from_env_and_are_never_written_in_compose():
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    for secret in ("POSTGRES_PASSWORD", "GRAFANA_ADMIN_PASSWORD"):
        assert f"${{{secret}:?" in text, f"{secret} must be required from .env, without a default"
    for name in ("ingest", "moderation", "sla", "archive", "topics"):
        assert SERVICES[name]["env_file"] == ".env"
    env_example = (ROOT / ".env.example").read_text(encoding="utf-8")
    for variable in ("POSTGRES_PASSWORD", "GRAFANA_ADMIN_PASSWORD", "SOCIALOPS_META_APP_SECRET"):
        assert re.search(rf"^{variable}=", env_example, re.MULTILINE)


def test_promtool_accepts_the_prometheus_config_and_its_rules():
    promtool = required_tool("promtool", "apt-get install -y prometheus")
    result = subprocess.run([promtool, "check", "config", "prometheus.yml"], cwd=ROOT / "ops" / "prometheus",
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_prometheus_alerts_go_to_the_stacks_alertmanager():
    config = yaml.safe_load((ROOT / "ops" / "prometheus" / "prometheus.yml").read_text(encoding="utf-8"))
    targets = [t for manager in config["alerting"]["alertmanagers"] for group in manager["static_configs"]
               for t in group["targets"]]
    alertmanager = SERVICES["alertmanager"]
    assert targets == ["alertmanager:9093"] and "9093:9093" in alertmanager["ports"]
    assert "./ops/alertmanager:/etc/alertmanager:ro" in alertmanager["volumes"]
    assert "--config.file=/etc/alertmanager/alertmanager.yml" in alertmanager["command"]


def receivers_of(route: dict) -> list[str]:
    return [route["receiver"]] * ("receiver" in route) + [r for child in route.get("routes", []) for r in receivers_of(child)]


def test_alertmanager_routes_every_alert_to_a_receiver_that_mails_through_the_relay():
    config = yaml.safe_load((ROOT / "ops" / "alertmanager" / "alertmanager.yml").read_text(encoding="utf-8"))
    route = config["route"]
    assert route["receiver"], "the root route needs a default receiver: no alert may go nowhere"
    defined = {r["name"]: r for r in config["receivers"]}
    used = receivers_of(route)
    assert set(used) <= set(defined), f"routes name receivers that do not exist: {set(used) - set(defined)}"
    assert set(defined) <= set(used), f"receivers no route reaches: {set(defined) - set(used)}"
    for receiver in defined.values():
        assert receiver.get("email_configs"), f"{receiver['name']} sends nothing"
        assert all("@" in mail["to"] for mail in receiver["email_configs"])
    relay, _, port = config["global"]["smtp_smarthost"].partition(":")
    assert relay in SERVICES and relay in SERVICES["alertmanager"]["depends_on"]
    # every alert the rules can raise has a severity a route (or the default) handles
    severities = {rule["labels"]["severity"] for path in (ROOT / "ops" / "prometheus" / "rules").glob("*.yml")
                  for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"] for rule in group["rules"]}
    assert severities <= {"critical", "warning", "info"}
    # the archive's registration mail reaches the same relay unless .env names the city's
    assert SERVICES["archive"]["environment"]["SOCIALOPS_SMTP_HOST"] == f"${{SOCIALOPS_SMTP_HOST:-{relay}}}"
    assert SERVICES["archive"]["environment"]["SOCIALOPS_SMTP_PORT"] == f"${{SOCIALOPS_SMTP_PORT:-{port}}}"


def test_the_topics_job_runs_the_console_script_with_the_configured_layout():
    job = SERVICES["topics"]
    scripts = tomllib.loads((ROOT / "libs" / "common" / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert job["command"] == ["socialops-topics"] and "socialops-topics" in scripts
    assert job["env_file"] == ".env" and job["environment"]["SOCIALOPS_KAFKA_BOOTSTRAP"] == "kafka:9092"
    for name in ("ingest", "moderation", "sla", "archive"):
        assert SERVICES[name]["depends_on"]["topics"]["condition"] == "service_completed_successfully"


def test_postgres_archives_its_wal_to_its_own_volume():
    postgres = SERVICES["postgres"]
    command = " ".join(postgres["command"])
    assert "archive_mode=on" in command and "wal_level=replica" in command
    archive_dir = re.search(r"cp %p (\S+)/%f", command).group(1)
    assert any(v.endswith(f":{archive_dir}") for v in postgres["volumes"])


def test_the_cluster_variant_has_three_kraft_brokers_replicating_three_times():
    brokers = {name: spec for name, spec in CLUSTER.items() if spec.get("image", "").startswith("apache/kafka:")}
    assert sorted(brokers) == ["kafka", "kafka-2", "kafka-3"]
    voters = {}
    for name, spec in brokers.items():
        env = spec["environment"]
        assert "healthcheck" in spec and PINNED.match(spec["image"]) and spec["restart"] == "unless-stopped"
        assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
        assert env["KAFKA_ADVERTISED_LISTENERS"] == f"PLAINTEXT://{name}:9092"
        assert int(env["KAFKA_DEFAULT_REPLICATION_FACTOR"]) == 3 and int(env["KAFKA_MIN_INSYNC_REPLICAS"]) == 2
        assert int(env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"]) == 3
        voters[int(env["KAFKA_NODE_ID"])] = name
        quorum = env["KAFKA_CONTROLLER_QUORUM_VOTERS"]
    assert quorum == ",".join(f"{node}@{name}:9093" for node, name in sorted(voters.items()))
    data_volumes = [v.split(":")[0] for spec in brokers.values() for v in spec["volumes"]]
    assert len(set(data_volumes)) == 3, "each broker needs its own log volume"
    topics = CLUSTER["topics"]["environment"]
    assert int(topics["SOCIALOPS_TOPIC_REPLICATION_FACTOR"]) == 3 and int(topics["SOCIALOPS_TOPIC_MIN_INSYNC_REPLICAS"]) == 2
    for name in ("topics", "ingest", "moderation", "sla", "archive"):
        bootstrap = CLUSTER[name]["environment"]["SOCIALOPS_KAFKA_BOOTSTRAP"].split(",")
        assert sorted(bootstrap) == sorted(f"{b}:9092" for b in brokers), name
        assert all(CLUSTER[name]["depends_on"][b]["condition"] == "service_healthy" for b in brokers)
    # the override keeps what the base gives every service
    assert CLUSTER["ingest"]["environment"]["SOCIALOPS_ACCOUNTS_FILE"] == "/app/config/accounts.yaml"


def test_the_cluster_override_sets_only_variables_the_code_reads():
    text = (ROOT / "docker-compose.cluster.yml").read_text(encoding="utf-8")
    assert sorted(set(VARIABLE.findall(text)) - (settings_variables() | literal_variables())) == []


ALERTMANAGER_CONFIG = str(ROOT / "ops" / "alertmanager" / "alertmanager.yml")


def amtool() -> str:
    return required_tool("amtool", "apt-get install -y prometheus-alertmanager")


def test_amtool_accepts_the_alertmanager_config():
    result = subprocess.run([amtool(), "check-config", ALERTMANAGER_CONFIG], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("labels, receiver", [
    (["alertname=ServiceDown", "severity=critical", "service=sla"], "operations-urgent"),
    (["alertname=CircuitOpen", "severity=critical", "circuit=sla-consumer"], "operations-urgent"),
    (["alertname=SlaBreached", "severity=warning", "department=Kultur"], "social-media-editors"),
    (["alertname=SlaAccountReviewRequired", "severity=info"], "communications-office"),
    (["alertname=ConsumerLagHigh", "severity=warning"], "operations"),
    (["alertname=PoisonMessages", "severity=warning"], "operations"),
])
def test_each_kind_of_alert_reaches_the_people_who_act_on_it(labels, receiver):
    result = subprocess.run([amtool(), "config", "routes", "test", f"--config.file={ALERTMANAGER_CONFIG}", *labels],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == receiver


def test_every_alert_of_the_rules_has_a_runbook_entry_in_the_operations_guide():
    guide = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    runbook = guide[guide.index("## Alerts and what to do"):guide.index("## Dead letters and replay")]
    alerts = {rule["alert"] for path in (ROOT / "ops" / "prometheus" / "rules").glob("*.yml")
              for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"] for rule in group["rules"]}
    assert alerts and sorted(a for a in alerts if f"`{a}`" not in runbook) == []


def test_every_compose_command_is_a_console_script_the_image_installs():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    installed = set(re.search(r"for service in ([\w ]+);", dockerfile).group(1).split())
    services = sorted(ROOT.glob("services/*/pyproject.toml"))
    assert {path.parent.name for path in services} <= installed and "./libs/common" in dockerfile
    scripts = {}
    for pyproject in [ROOT / "libs" / "common" / "pyproject.toml", *services]:
        scripts |= tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"].get("scripts", {})
    for name, spec in SERVICES.items():
        if spec.get("image", "").startswith("socialops:"):
            assert spec["command"][0] in scripts, f"{name}: {spec['command'][0]} is not a console script"

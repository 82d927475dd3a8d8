"""docker-compose.yml cannot run here (no Docker engine): parse it and check what operations rely on.

- every long-running container has a health check (one-shot jobs that others wait for with
  `service_completed_successfully` are exempt: they exit);
- every image is pinned to an exact version (no `latest`, no bare major);
- every SOCIALOPS_ variable the code reads is declared in .env.example, and compose sets no
  SOCIALOPS_ variable the code does not know (a typo would be silently ignored);
- the stack has what the SPEC asks: Kafka in KRaft mode, PostgreSQL with a volume, Prometheus
  mounting ops/prometheus, Grafana mounting ops/grafana, and the four services on 8080-8083.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import yaml

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

"""The metric configuration (`metrics.yaml`): platform metric name -> canonical snapshot field. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from socialops_common.events import METRIC_FIELDS


class MetricConfigError(ValueError):
    pass


@dataclass(frozen=True)
class MetricMap:
    """One request's metrics: which platform metric fills which field (several may add up)."""

    fields: dict[str, str] = field(default_factory=dict)  # platform metric -> field (plain values)
    keyed: dict[str, dict[str, str]] = field(default_factory=dict)  # metric -> {value key -> field}
    breakdowns: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)  # metric -> (dimension, {value -> field})

    @property
    def names(self) -> list[str]:
        return [*self.fields, *self.keyed, *self.breakdowns]

    @property
    def targets(self) -> set[str]:
        out = set(self.fields.values())
        for mapping in (*self.keyed.values(), *(m for _, m in self.breakdowns.values())):
            out |= set(mapping.values())
        return out

    def targets_of(self, metric: str) -> set[str]:
        if metric in self.fields:
            return {self.fields[metric]}
        if metric in self.keyed:
            return set(self.keyed[metric].values())
        if metric in self.breakdowns:
            return set(self.breakdowns[metric][1].values())
        return set()

    def without(self, removed: set[str]) -> MetricMap:
        return MetricMap({k: v for k, v in self.fields.items() if k not in removed},
                         {k: v for k, v in self.keyed.items() if k not in removed},
                         {k: v for k, v in self.breakdowns.items() if k not in removed})


def _field(name: Any, where: str) -> str:
    if name not in METRIC_FIELDS:
        raise MetricConfigError(f"{where}: {name!r} is not a snapshot field ({', '.join(METRIC_FIELDS)})")
    return str(name)


def parse_map(document: Any, where: str) -> MetricMap:
    if not isinstance(document, Mapping) or not document:
        raise MetricConfigError(f"{where}: expected a mapping of platform metric -> field")
    result = MetricMap()
    for metric, target in document.items():
        spot = f"{where}.{metric}"
        if isinstance(target, str):
            result.fields[str(metric)] = _field(target, spot)
        elif isinstance(target, Mapping) and "breakdown" in target:
            values = {str(k): _field(v, f"{spot}.{k}") for k, v in target.items() if k != "breakdown"}
            result.breakdowns[str(metric)] = (str(target["breakdown"]), values)
        elif isinstance(target, Mapping):
            result.keyed[str(metric)] = {str(k): _field(v, f"{spot}.{k}") for k, v in target.items()}
        else:
            raise MetricConfigError(f"{spot}: expected a field name or a mapping")
    return result


REQUIRED = {
    "facebook": ("page_insights", "post_insights"),
    "instagram": ("account_total_value", "account_time_series", "media_insights"),
    "linkedin": ("share_statistics", "post_statistics"),
    "x": ("post_public_metrics", "post_non_public_metrics"),
}


@dataclass(frozen=True)
class MetricConfig:
    maps: dict[tuple[str, str], MetricMap]

    def __call__(self, platform: str, request: str) -> MetricMap:
        return self.maps[(platform, request)]


def parse_config(document: Any) -> MetricConfig:
    if not isinstance(document, Mapping):
        raise MetricConfigError("the metric configuration must be a mapping of platform -> requests")
    maps: dict[tuple[str, str], MetricMap] = {}
    for platform, requests in REQUIRED.items():
        section = document.get(platform)
        if not isinstance(section, Mapping):
            raise MetricConfigError(f"{platform}: missing")
        for request in requests:
            maps[(platform, request)] = parse_map(section.get(request), f"{platform}.{request}")
    return MetricConfig(maps)


def load_config(path: str | Path | None = None) -> MetricConfig:
    """`SOCIALOPS_INSIGHTS_METRICS_FILE` when set, else the shipped `metrics.yaml`."""
    if path:
        text = Path(path).read_text(encoding="utf-8")
    else:
        text = resources.files("socialops_ingest.insights").joinpath("metrics.yaml").read_text(encoding="utf-8")
    return parse_config(yaml.safe_load(text))

"""Run `eark-validator` offline: its vocabulary lookups are answered from the packaged CSIP vocabularies."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from unittest import mock

from socialops_archive.export import VOCABULARIES


def _local_urlopen(url: str, *args: object, **kwargs: object):  # noqa: ANN202 - file object
    name = str(url).rsplit("/", 1)[-1]
    return open(VOCABULARIES / name, "rb")  # noqa: SIM115 - the validator iterates and drops it


def validate_package(path: Path) -> object:
    """The validator's report for a zip or folder at specification 2.1.0."""
    with mock.patch("urllib.request.urlopen", _local_urlopen):
        for module in [m for m in sys.modules if m.startswith("eark_validator")]:
            del sys.modules[module]
        schematron = importlib.import_module("eark_validator.ipxml.schematron")
        schematron.urlopen = _local_urlopen
        packages = importlib.import_module("eark_validator.packages")
        from eark_validator.specifications.specification import SpecificationVersion

        return packages.PackageValidator(path, SpecificationVersion.V2_1_0).validation_report


def errors_of(report: object) -> list[str]:
    found: list[str] = []
    structure = getattr(report, "structure", None)
    if structure is not None:
        for message in getattr(structure, "messages", []) or []:
            if str(getattr(message, "severity", "")).lower().endswith("error"):
                found.append(f"structure {message.rule_id}: {message.message}")
    metadata = getattr(report, "metadata", None)
    if metadata is not None:
        for part in (metadata.schema_results, metadata.schematron_results):
            for message in part.messages or []:
                if str(message.severity).lower().endswith("error"):
                    found.append(f"{message.rule_id}: {message.message[:200]} @ {message.location}")
    return found

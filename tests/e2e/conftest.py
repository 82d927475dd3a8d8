"""End-to-end tests: the helpers next to this file are imported by name (harness, invariants)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from harness import Stack  # noqa: E402


@pytest.fixture(scope="module")
def stack():
    """The whole platform as real processes, one per test module (stopped and removed after it)."""
    platform = Stack().start()
    try:
        yield platform
    finally:
        platform.stop()

"""End-to-end tests: the helpers next to this file are imported by name (harness, invariants)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

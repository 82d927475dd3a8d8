"""A test session that leaves a process running fails, naming it; a clean one passes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil
from socialops_common.testing import SESSION_MARKER

LEAKING = textwrap.dedent('''
    import subprocess

    def test_starts_a_process_and_forgets_it():
        subprocess.Popen(["sleep", "120"], start_new_session=True)
''')
TIDY = textwrap.dedent('''
    import subprocess

    def test_starts_a_process_and_waits_for_it():
        subprocess.run(["sleep", "0.1"], check=True)
''')


def run_session(folder: Path, test_source: str) -> subprocess.CompletedProcess[str]:
    (folder / "test_example.py").write_text(test_source, encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if key != SESSION_MARKER}
    env["SOCIALOPS_TEST_LEFTOVER_GRACE_S"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "socialops_common.testing", "-c", os.devnull,
         "--rootdir", str(folder), "-p", "no:cacheprovider", str(folder)],
        cwd=folder, env=env, capture_output=True, text=True, timeout=120,
    )


def sleepers_in(folder: Path) -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["cmdline", "cwd"])
            if p.info["cmdline"] == ["sleep", "120"] and p.info["cwd"] == str(folder)]


def test_a_session_that_leaves_a_process_running_fails_and_names_it(tmp_path: Path) -> None:
    result = run_session(tmp_path, LEAKING)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "still alive at its end" in result.stdout
    assert "sleep 120" in result.stdout
    assert sleepers_in(tmp_path) == []  # and it was stopped


def test_a_session_that_cleans_up_passes(tmp_path: Path) -> None:
    result = run_session(tmp_path, TIDY)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "still alive" not in result.stdout

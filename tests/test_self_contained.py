"""The repository is self-contained: no tracked file reads or names a path outside it.

A city's developer clones the repository and nothing else. A path that climbs out of it
(`../shared/...`), a string `".."` joined into a path in code, or a path of one machine (`/work/...`,
`/root/...`, `/home/...`) works on the machine where it was written and nowhere else.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
SKIPPED_FOLDERS = {".git", ".venv", "var", "__pycache__", ".pytest_cache", ".hypothesis", ".ruff_cache"}

# A relative path with at least one `..` segment, e.g. `../rules/sla.yml` or `../../schemas/premis.xsd`.
CLIMBING_PATH = re.compile(r"(?<![\w.])((?:\.\./)+)([\w.\-/]*)")
# `..` as a path component built in code: `Path(...) / ".."`, `os.path.join(x, "..")`.
PARENT_LITERAL = re.compile(r"""(?:/|,)\s*(["'])\.\.\1""")
MACHINE_PATH = re.compile(r"(?<![\w.])/(?:work|root|home)/[\w.\-]+")


def tracked_files() -> list[Path]:
    """The files git tracks; when the tree is not a git checkout (an unpacked archive), every file."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=REPOSITORY, check=True, capture_output=True,
        ).stdout.decode("utf-8").split("\0")
        return [REPOSITORY / name for name in listed if name]
    except (OSError, subprocess.CalledProcessError):
        return [
            path for path in REPOSITORY.rglob("*")
            if path.is_file() and not SKIPPED_FOLDERS.intersection(path.relative_to(REPOSITORY).parts)
        ]


def text_of(path: Path) -> str | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if b"\0" in data[:4096]:
        return None
    return data.decode("utf-8", errors="replace")


def inside_repository(path: Path) -> bool:
    return path.resolve().is_relative_to(REPOSITORY)


def paths_outside(path: Path, text: str) -> list[str]:
    found = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        for match in CLIMBING_PATH.finditer(line):
            relative = match.group(1) + match.group(2)
            # Read relative to the file itself and to the repository root (where commands run).
            if not (inside_repository(path.parent / relative) or inside_repository(REPOSITORY / relative)):
                found.append(f"{path.relative_to(REPOSITORY)}:{line_no}: {relative}")
        if path.suffix == ".py" and PARENT_LITERAL.search(line):
            found.append(f"{path.relative_to(REPOSITORY)}:{line_no}: '..' joined into a path")
        for match in MACHINE_PATH.finditer(line):
            found.append(f"{path.relative_to(REPOSITORY)}:{line_no}: {match.group(0)}")
    return found


def test_no_tracked_file_names_a_path_outside_the_repository() -> None:
    offenders = []
    for path in tracked_files():
        if path.resolve() == Path(__file__).resolve():
            continue  # this file names the patterns it looks for
        text = text_of(path)
        if text is not None:
            offenders.extend(paths_outside(path, text))
    assert not offenders, "paths outside the repository:\n" + "\n".join(offenders)


def test_the_check_sees_the_paths_it_is_for(tmp_path: Path) -> None:
    code = REPOSITORY / "services" / "archive" / "tests" / "example.py"
    assert paths_outside(code, 'VOCABULARIES = Path(__file__).parents[3] / ".." / "shared"\n')
    assert paths_outside(code, "open('../../../../shared/vocabularies/csip/x.xml')\n")
    assert paths_outside(code, "DATA = '/work/shared/data/moderation'\n")
    assert not paths_outside(code, "PREMIS = '../../schemas/premis.xsd'  # inside the repository\n")
    rules = REPOSITORY / "ops" / "prometheus" / "tests" / "sla_test.yml"
    assert not paths_outside(rules, "rule_files:\n  - ../rules/sla.yml\n")
    assert paths_outside(REPOSITORY / "README.md", "see ../shared/SPEC.md\n")

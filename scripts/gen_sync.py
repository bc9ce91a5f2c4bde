"""Generate the blocking client (scope_lab/_sync) from the asyncio one (scope_lab/_async).

Both clients must behave the same, and writing every resource twice by hand is how
they drift apart; httpcore solves this the same way. Run it after editing anything
in scope_lab/_async; `--check` (run by the test suite) fails if _sync is out of date.
"""

from __future__ import annotations

import argparse
import difflib
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import unasync

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "scope_lab" / "_async"
TARGET = ROOT / "scope_lab" / "_sync"
HEADER = "# Generated from scope_lab/_async by scripts/gen_sync.py: do not edit.\n"
# httpx and our own names whose sync twin is not simply "drop the Async prefix".
FIXED = {
    "_async": "_sync",
    "AsyncClient": "Client",
    "AsyncHTTPTransport": "HTTPTransport",
    "AsyncBackend": "SyncBackend",
    "aclose": "close",
    "aread": "read",
    "asyncio": "asyncio",
}


def replacements() -> dict[str, str]:
    """FIXED plus every ``AsyncName`` class of the sources → ``Name``."""
    names = dict(FIXED)
    for path in SOURCE.rglob("*.py"):
        for name in re.findall(r"^class (Async\w+)", path.read_text(), flags=re.M):
            names.setdefault(name, name.removeprefix("Async"))
    return names


def generate(target: Path) -> None:
    """Write the sync sources under ``target``, imports sorted as ruff wants them."""
    files = sorted(str(p) for p in SOURCE.rglob("*.py"))
    rule = unasync.Rule(str(SOURCE) + "/", str(target) + "/",
                        additional_replacements=replacements())
    unasync.unasync_files(files, [rule])
    for path in target.rglob("*.py"):
        text = path.read_text()
        text = text.replace('"""The asyncio client. The blocking client in ``scope_lab/_sync`` '
                            'is generated from it."""', '"""The blocking client."""')
        path.write_text(_sort_imports(HEADER + text, TARGET / path.relative_to(target)))


def _sort_imports(text: str, as_path: Path) -> str:
    # Renamed modules change the import order; let ruff sort them with the project's
    # settings, as if the file already lived at its final path.
    result = subprocess.run(  # noqa: S603 - our own interpreter and ruff
        [sys.executable, "-m", "ruff", "check", "--fix-only", "--select", "I", "--quiet",
         "--stdin-filename", str(as_path), "-"],
        input=text, capture_output=True, text=True, check=True, cwd=ROOT)
    return result.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if _sync is out of date")
    args = parser.parse_args()
    if not args.check:
        generate(TARGET)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "_sync"
        generate(fresh)
        stale = _compare(fresh, TARGET)
    if stale:
        sys.stderr.write("scope_lab/_sync is out of date: run `python scripts/gen_sync.py`\n")
        sys.stderr.write("".join(stale))
        return 1
    return 0


def _compare(fresh: Path, current: Path) -> list[str]:
    problems: list[str] = []
    fresh_files = {p.relative_to(fresh) for p in fresh.rglob("*.py")}
    current_files = {p.relative_to(current) for p in current.rglob("*.py")} \
        if current.exists() else set()
    for rel in sorted(current_files - fresh_files):
        problems.append(f"extra file scope_lab/_sync/{rel}\n")
    for rel in sorted(fresh_files):
        new = (fresh / rel).read_text().splitlines(keepends=True)
        old = (current / rel).read_text().splitlines(keepends=True) \
            if rel in current_files else []
        problems.extend(difflib.unified_diff(old, new, f"_sync/{rel}", f"generated/{rel}"))
    return problems


if __name__ == "__main__":
    sys.exit(main())

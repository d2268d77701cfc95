#!/usr/bin/env python3
"""Developer entry point that needs nothing but Python 3.11: ``python3 dev.py demo`` / ``python3 dev.py test``.

It creates ``.venv`` beside this file, installs the project with its test extras from ``pyproject.toml``
(again only when that file changes), and then runs the demo server or the test suite inside it.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
MARKER = VENV / ".titlereview-installed"

USAGE = """usage: python3 dev.py demo [--port N] [--fresh]   seed a SQLite demo database and serve it
       python3 dev.py test [pytest args]          run the test suite
       python3 dev.py shell                       print how to activate the environment"""


def ensure_environment() -> None:
    """Create the virtualenv and (re)install the project when pyproject.toml changed since last time."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py runs before any environment exists
        sys.exit(f"titlereview needs Python 3.11 or newer (this is {sys.version.split()[0]})")
    if not PYTHON.exists():
        print(f"creating virtual environment in {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if MARKER.exists() and MARKER.read_text().strip() == wanted:
        return
    print("installing titlereview and its dependencies (first run takes a minute) ...", flush=True)
    pip = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    # setuptools prints pages of advice about editable installs on stderr: keep it, show it only on failure.
    done = subprocess.run([*pip, "-e", f"{ROOT}[test]"], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        sys.exit(f"installing the project failed (exit {done.returncode})")
    MARKER.write_text(wanted)


def main(argv: list[str]) -> int:
    """Dispatch ``demo``, ``test`` or ``shell``."""
    if not argv or argv[0] not in ("demo", "test", "shell"):
        print(USAGE)
        return 2
    ensure_environment()
    command, rest = argv[0], argv[1:]
    os.chdir(ROOT)
    if command == "demo":
        return subprocess.call([str(BIN / "titlereview"), "demo", *rest])
    if command == "test":
        return subprocess.call([str(PYTHON), "-m", "pytest", *rest])
    print(f"source {BIN / 'activate'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

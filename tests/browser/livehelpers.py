"""Constants shared by the browser tests and their fixtures."""

from __future__ import annotations

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
"""Flags for Debian's Chromium as root in a container, without background traffic (there is no internet)."""

PASSWORD = "pw-browser-2026"
"""The password of every account in the browser tests' database."""

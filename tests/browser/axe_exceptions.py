"""The one place where an axe-core finding may be excused in the browser tests, each with its reason.

Every page the browser tests load is checked with axe-core's WCAG 2.1 A and AA rules (``axe_audit.py``); a
violation fails the test unless an entry here matches it. Keep this list empty whenever possible: an entry
is for a finding that is wrong about this site (a false positive of the checker) or that cannot be fixed in
this code base, never for one that is merely inconvenient. Say why in ``reason``, in words a reviewer can
check, and narrow the entry to the rule, the element and the page it is about.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase


@dataclass(frozen=True)
class AxeException:
    """An excused finding: axe rule ``rule`` on elements whose selector matches ``target`` on pages whose path
    matches ``path`` (both shell-style patterns, ``*`` for any), with the ``reason`` it is acceptable."""

    rule: str
    target: str
    path: str
    reason: str

    def covers(self, rule: str, target: str, path: str) -> bool:
        """Whether this entry excuses ``rule`` on the element ``target`` of the page at ``path``."""
        return rule == self.rule and fnmatchcase(target, self.target) and fnmatchcase(path, self.path)


EXCEPTIONS: tuple[AxeException, ...] = ()
"""Excused findings. Empty: every page the browser tests visit has no axe violation at all."""


def excused(rule: str, target: str, path: str) -> AxeException | None:
    """The entry that excuses this finding, or None when it must fail the test."""
    return next((e for e in EXCEPTIONS if e.covers(rule, target, path)), None)

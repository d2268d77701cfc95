"""YAML loading that remembers where every value came from.

Definitions (pipelines, standards) are data written by people, so an error must point at the line to fix.
PyYAML's composed nodes carry marks; this loader keeps them on the mappings and sequences it builds, and
:func:`locate` turns a pydantic error location (a path of keys and indices) into ``file:line``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import yaml


class LineDict(dict):
    """A dict that knows the line of its own start and of each of its keys (1-based)."""

    line: int = 0
    key_lines: dict[Any, int]


class LineList(list):
    """A list that knows the line of its own start and of each of its items (1-based)."""

    line: int = 0
    item_lines: list[int]


MAX_DEPTH = 64
"""Deepest nesting of mappings and sequences a definition may use (real ones stay under 10). Deeper input
would exhaust Python's recursion limit inside PyYAML instead of being reported with its line."""

_VALUE_ERRORS = (ValueError, TypeError, AttributeError, KeyError, IndexError, OverflowError)
"""What PyYAML's constructors let escape for badly tagged scalars (``!!int abc``, ``!!bool maybe``,
``!!timestamp x``) or over-long numbers, instead of a YAMLError."""


class _LineLoader(yaml.SafeLoader):
    """A SafeLoader whose mappings and sequences remember their source lines.

    Duplicate keys are an error: YAML silently keeps the last one, which hides mistakes in hand-written data.
    """

    _depth = 0

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise DefinitionError(f"nested more than {MAX_DEPTH} levels deep", line=mark.line + 1)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except DefinitionError:
            raise
        except _VALUE_ERRORS:
            # The innermost node that failed names the line; outer nodes pass the DefinitionError on.
            # (PyYAML's own message is about its internals, e.g. "'NoneType' object has no attribute 'groupdict'".)
            kind = node.tag.rsplit(":", 1)[-1]
            if isinstance(node.value, str):
                value = repr(node.value[:40])
            else:
                # A sequence or mapping (the composer builds no other nodes): both name their kind in ``id``,
                # which the stubs declare on those classes, not on their base.
                value = f"this {cast('yaml.SequenceNode | yaml.MappingNode', node).id}"
            raise DefinitionError(f"{value} cannot be read as !!{kind}", line=node.start_mark.line + 1) from None

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> LineDict:
        if not isinstance(node, yaml.MappingNode):  # e.g. "!!map x": PyYAML's own check, which this override skips
            raise yaml.constructor.ConstructorError(None, None, f"expected a mapping node, but found {node.id}",
                                                    node.start_mark)
        result = LineDict()
        result.line = node.start_mark.line + 1
        result.key_lines = {}
        self.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise DefinitionError(f"a key must be a plain value, not a {key_node.id} ({key!r})",
                                      line=key_node.start_mark.line + 1) from None
            if key in result.key_lines:
                raise DefinitionError(
                    f"duplicate key {key!r} (first at line {result.key_lines[key]})",
                    line=key_node.start_mark.line + 1,
                )
            result.key_lines[key] = key_node.start_mark.line + 1
            result[key] = self.construct_object(value_node, deep=True)
        return result

    def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> LineList:
        if not isinstance(node, yaml.SequenceNode):  # e.g. "!!seq x"
            raise yaml.constructor.ConstructorError(None, None, f"expected a sequence node, but found {node.id}",
                                                    node.start_mark)
        result = LineList(self.construct_object(child, deep=True) for child in node.value)
        result.line = node.start_mark.line + 1
        result.item_lines = [child.start_mark.line + 1 for child in node.value]
        return result


    def construct_yaml_timestamp(self, node: yaml.ScalarNode):
        """Dates like 2024-13-01 match YAML's timestamp pattern but are impossible: report them with a line."""
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as err:
            raise DefinitionError(f"impossible date {node.value!r}: {err}", line=node.start_mark.line + 1) from None


_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _LineLoader.construct_yaml_timestamp)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _LineLoader.construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _LineLoader.construct_sequence)


@dataclass
class Problem:
    """One thing wrong with a definition, with the line it was found at (0 when unknown)."""

    message: str
    line: int = 0
    source: str | None = None

    def render(self, source: str) -> str:
        """Format as ``source:line: message``, the form editors and CI logs link to."""
        where = self.source or source
        return f"{where}:{self.line}: {self.message}" if self.line else f"{where}: {self.message}"


class DefinitionError(ValueError):
    """A definition file could not be loaded; ``problems`` lists every issue found, each with its line."""

    def __init__(self, message: str = "", *, line: int = 0, source: str = "<definition>",
                 problems: Iterable[Problem] | None = None) -> None:
        self.source = source
        self.problems = list(problems) if problems is not None else [Problem(message, line)]
        super().__init__(self._render())

    def _render(self) -> str:
        return "\n".join(p.render(self.source) for p in self.problems)

    def with_source(self, source: str) -> DefinitionError:
        """Return the same error attributed to ``source`` (a file name)."""
        return DefinitionError(source=source, problems=self.problems)

    def attributed(self) -> list[Problem]:
        """The problems, each carrying this error's source (to merge errors from several files)."""
        return [Problem(p.message, p.line, p.source or self.source) for p in self.problems]


def load_yaml(text: str, source: str = "<definition>") -> Any:
    """Parse YAML text into LineDict/LineList values; syntax errors become a DefinitionError with a line."""
    try:
        return yaml.load(text, Loader=_LineLoader)
    except DefinitionError as err:
        raise err.with_source(source) from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else 0
        raise DefinitionError(f"YAML syntax: {err.problem or err}", line=line, source=source) from None
    except yaml.reader.ReaderError as err:
        # A character YAML forbids (NUL, other control characters): name its line rather than a text offset.
        line = text.count("\n", 0, err.position) + 1
        char = f"#x{err.character:04x}" if isinstance(err.character, int) else repr(err.character)
        raise DefinitionError(f"YAML: character {char} is not allowed ({err.reason})", line=line,
                              source=source) from None
    except yaml.YAMLError as err:
        raise DefinitionError(f"YAML: {err}", source=source) from None
    except _VALUE_ERRORS as err:
        # Values built after the document (the contents of !!set and !!omap) fail outside construct_object.
        raise DefinitionError(f"YAML: a value cannot be read ({type(err).__name__})", source=source) from None


def read_yaml_file(path: Path) -> Any:
    """Read and parse a YAML file; the error source is the path as given."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise DefinitionError(f"cannot read: {err}", source=str(path)) from None
    return load_yaml(text, source=str(path))


def describe_loc(loc: Iterable[Any]) -> str:
    """A pydantic error location as ``states.3.name``. A key that is not plain one-line text (a newline, a
    control character, leading blanks, empty) is quoted, so the problem still renders on one line."""
    parts = []
    for part in loc:
        text = str(part)
        parts.append(text if text and text.isprintable() and text.strip() == text else repr(text))
    return ".".join(parts)


def locate(data: Any, loc: Iterable[Any]) -> int:
    """Best line for a path of keys/indices into loaded data: the deepest element that has a line."""
    line = getattr(data, "line", 0)
    node = data
    for part in loc:
        if isinstance(node, LineDict) and part in node:
            line = node.key_lines.get(part, line)
            node = node[part]
        elif isinstance(node, LineList) and isinstance(part, int) and 0 <= part < len(node):
            line = node.item_lines[part]
            node = node[part]
        else:
            break
        line = getattr(node, "line", 0) or line
    return line

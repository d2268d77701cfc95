"""One base chain for many pipelines: ``extends:`` resolves a pipeline file against a shared base definition.

The shipped pipelines share most of their states and transitions (the unit → authority → panel → notice →
filing chain). That chain lives once in ``definitions/bases/<name>.yaml``; a pipeline file says
``extends: {base: review-chain, version: 1}`` and states only its differences:

* ``parameters`` — entries replace the base's entry of the same name whole, new names are added;
  ``remove_parameters: [name, …]`` drops base entries.
* ``materials`` — entries replace the base's material of the same ``code`` (in its place), new ones are
  appended; ``remove_materials: [code, …]`` drops base entries.
* ``states`` — an entry with a base state's ``name`` changes only the fields it gives (a new label, another
  inbox tab …); new names are appended; ``remove_states: [name, …]`` drops base states.
* ``transitions`` — an entry changes the fields it gives on every base transition with its ``trigger`` (and,
  when given, its ``dest``, to pick one branch); an entry that matches no base transition is a new one and
  must be complete. ``remove_transitions: [{trigger, dest?}, …]`` drops base transitions.
* ``rename_states: {from: to}`` gives base states other names everywhere (the states, ``initial``, every
  transition's ``source`` and ``dest``, every deadline's ``paused_in``) before the entries above apply, so a
  pipeline can run the same chain under its own state names.
* ``rename_roles: {from: to}`` replaces a role everywhere in the base's transitions (``roles`` and
  ``notify``), e.g. the agency acting where the employer's HR acts.

What is stored and pinned for a version is the fully resolved definition (:func:`resolve_text`), so a running
case stays on exactly what it started with whatever later happens to the base. A base has its own
``version``; a pipeline names the version it was written against, and loading refuses a pipeline whose base
has moved on: raising the base means raising the version of every pipeline that extends it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from workflow.pipeline.yamlsource import DefinitionError, load_yaml

BASES_DIR = Path(__file__).resolve().parents[2] / "definitions" / "bases"

_MERGE_KEYS = ("parameters", "materials", "states", "transitions")
_EXTENSION_KEYS = ("extends", "remove_parameters", "remove_materials", "remove_states", "remove_transitions",
                   "rename_states", "rename_roles")
_OWN_KEYS = ("id", "version", "label", "description", "channel", "route")
"""What a pipeline always states itself: a base cannot give it an identity."""


def _plain(value: Any) -> Any:
    """Loaded YAML (line-tracking dicts and lists) as plain dicts and lists, for dumping and copying."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _names(value: Any, what: str, source: str, line: int) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DefinitionError(f"{what} must be a list of names", line=line, source=source)
    return list(value)


def _line(raw: Any, key: str) -> int:
    line = getattr(raw, "key_lines", {}).get(key, getattr(raw, "line", 1))
    return line if isinstance(line, int) else 1


def load_base(name: str, search: Iterable[Path]) -> tuple[dict[str, Any], Path]:
    """The base definition ``name`` (plain data) and its file, from the first directory of ``search`` that
    has ``<name>.yaml``; DefinitionError when none has."""
    for directory in search:
        path = directory / f"{name}.yaml"
        if path.is_file():
            raw = load_yaml(path.read_text(encoding="utf-8"), str(path))
            if not isinstance(raw, dict) or not isinstance(raw.get("version"), int) or raw.get("id") != name:
                raise DefinitionError(f"a base must be a mapping with 'id: {name}' and an integer 'version'",
                                      line=1, source=str(path))
            return _plain(raw), path
    raise DefinitionError(f"unknown base {name!r} (no {name}.yaml among the bases)")


def _merge_by_key(base: list[dict[str, Any]], own: list[Any], key: str, *, replace: bool, what: str,
                  source: str, line: int) -> list[dict[str, Any]]:
    out = [dict(item) for item in base]
    for n, item in enumerate(own):
        if not isinstance(item, dict) or not isinstance(item.get(key), str):
            raise DefinitionError(f"every entry of {what} needs a {key!r}", line=getattr(item, "line", line),
                                  source=source)
        index = {entry.get(key): i for i, entry in enumerate(out)}
        at = index.get(item[key])
        if at is None:
            # A new entry goes before the next entry this pipeline also lists that the base has, so a
            # pipeline's own order is kept (a bridging pipeline's skill certificate first); else at the end.
            later = [index[o[key]] for o in own[n + 1:] if isinstance(o, dict) and o.get(key) in index]
            out.insert(later[0] if later else len(out), _plain(item))
        elif replace:
            out[at] = _plain(item)
        else:
            out[at] = {**out[at], **_plain(item)}
    return out


def _merge_transitions(base: list[dict[str, Any]], own: list[Any], source: str,
                       line: int) -> list[dict[str, Any]]:
    out = [dict(t) for t in base]
    for item in own:
        if not isinstance(item, dict) or not isinstance(item.get("trigger"), str):
            raise DefinitionError("every entry of transitions needs a 'trigger'", line=getattr(item, "line", line),
                                  source=source)
        hits = [t for t in out if t.get("trigger") == item["trigger"]
                and ("dest" not in item or t.get("dest") == item["dest"])]
        if not hits:
            out.append(_plain(item))
        for t in hits:
            t.update(_plain(item))
    return out


def refuse_stray_extension_keys(raw: dict[str, Any], source: str) -> None:
    """A definition that extends nothing may not use the extension keys (they would silently mean nothing)."""
    stray = [k for k in _EXTENSION_KEYS if k in raw and k != "extends"]
    if stray:
        raise DefinitionError(f"{stray[0]!r} is only allowed together with 'extends'", line=_line(raw, stray[0]),
                              source=source)


def resolve(raw: dict[str, Any], source: str, search: Iterable[Path] = (BASES_DIR,)) -> tuple[dict[str, Any], str]:
    """The pipeline ``raw`` with its ``extends:`` applied, as plain data, and a one-line note of the base used
    (for the stored text). A definition without ``extends`` comes back unchanged (as plain data)."""
    if "extends" not in raw:
        refuse_stray_extension_keys(raw, source)
        return _plain(raw), ""
    ext = raw["extends"]
    line = _line(raw, "extends")
    if not isinstance(ext, dict) or not isinstance(ext.get("base"), str) or not isinstance(ext.get("version"), int) \
            or set(ext) - {"base", "version"}:
        raise DefinitionError("extends must be {base: <name>, version: <the base's version>}", line=line,
                              source=source)
    found = next((d for d in search if (d / f"{ext['base']}.yaml").is_file()), None)
    if found is None:
        raise DefinitionError(f"unknown base {ext['base']!r} (no {ext['base']}.yaml among the bases)", line=line,
                              source=source)
    base, base_path = load_base(ext["base"], [found])
    if base["version"] != ext["version"]:
        raise DefinitionError(
            f"base {ext['base']!r} is at version {base['version']}, this pipeline was written against version "
            f"{ext['version']}: check the differences, then raise this pipeline's 'version' and its "
            f"'extends: version' (running cases keep the version they started with)", line=line, source=source)
    missing = [k for k in _OWN_KEYS if k not in raw and k not in ("route",)]
    if missing:
        raise DefinitionError(f"a pipeline that extends a base still states its own {missing[0]!r}", line=1,
                              source=source)
    base = _renamed_states(base, raw, source)
    resolved: dict[str, Any] = {k: v for k, v in base.items() if k not in ("id", "version", *_MERGE_KEYS)}
    resolved.update({k: _plain(v) for k, v in raw.items() if k not in (*_EXTENSION_KEYS, *_MERGE_KEYS)})

    params = dict(base.get("parameters") or {})
    for name in _names(raw.get("remove_parameters", []), "remove_parameters", source, _line(raw, "remove_parameters")):
        if params.pop(name, None) is None:
            raise DefinitionError(f"remove_parameters: the base has no parameter {name!r}",
                                  line=_line(raw, "remove_parameters"), source=source)
    own_params = raw.get("parameters") or {}
    if not isinstance(own_params, dict):
        raise DefinitionError("parameters must be a mapping", line=_line(raw, "parameters"), source=source)
    params.update(_plain(own_params))
    resolved["parameters"] = params

    resolved["materials"] = _merge_by_key(
        _drop(base.get("materials") or [], "code", raw, "remove_materials", source),
        _list(raw, "materials", source), "code", replace=True, what="materials", source=source,
        line=_line(raw, "materials"))
    states = _merge_by_key(
        _drop(base.get("states") or [], "name", raw, "remove_states", source),
        _list(raw, "states", source), "name", replace=False, what="states", source=source, line=_line(raw, "states"))
    resolved["states"] = states

    transitions = [dict(t) for t in base.get("transitions") or []]
    removals = raw.get("remove_transitions", [])
    if not isinstance(removals, list):
        raise DefinitionError("remove_transitions must be a list of {trigger, dest?}",
                              line=_line(raw, "remove_transitions"), source=source)
    for r in removals:
        if not isinstance(r, dict) or not isinstance(r.get("trigger"), str) or set(r) - {"trigger", "dest"}:
            raise DefinitionError("remove_transitions entries are {trigger: <name>, dest: <state, optional>}",
                                  line=getattr(r, "line", _line(raw, "remove_transitions")), source=source)
        keep = [t for t in transitions if not (t.get("trigger") == r["trigger"]
                                               and ("dest" not in r or t.get("dest") == r["dest"]))]
        if len(keep) == len(transitions):
            raise DefinitionError(f"remove_transitions: the base has no transition {r['trigger']!r}"
                                  + (f" to {r['dest']!r}" if "dest" in r else ""),
                                  line=getattr(r, "line", _line(raw, "remove_transitions")), source=source)
        transitions = keep
    renames = raw.get("rename_roles") or {}
    if not isinstance(renames, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in renames.items()):
        raise DefinitionError("rename_roles must map role names to role names", line=_line(raw, "rename_roles"),
                              source=source)
    for t in transitions:
        for key in ("roles", "notify"):
            if isinstance(t.get(key), list):
                t[key] = [renames.get(r, r) for r in t[key]]
    resolved["transitions"] = _merge_transitions(transitions, _list(raw, "transitions", source), source,
                                                 _line(raw, "transitions"))
    return resolved, f"{ext['base']} v{base['version']} ({base_path.name})"


def _renamed_states(base: dict[str, Any], raw: dict[str, Any], source: str) -> dict[str, Any]:
    """The base with its states renamed as ``rename_states`` says (a copy; the base is left as it was)."""
    renames = raw.get("rename_states") or {}
    line = _line(raw, "rename_states")
    if not isinstance(renames, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in renames.items()):
        raise DefinitionError("rename_states must map state names to state names", line=line, source=source)
    if not renames:
        return base
    names = {st.get("name") for st in base.get("states") or []}
    unknown = sorted(set(renames) - names)
    if unknown:
        raise DefinitionError(f"rename_states: the base has no state {unknown[0]!r}", line=line, source=source)
    clash = sorted(set(renames.values()) & (names - set(renames)))
    if clash or len(set(renames.values())) != len(renames):
        raise DefinitionError(f"rename_states: {clash[0] if clash else 'two states'!r} would be named twice",
                              line=line, source=source)

    def new(name: Any) -> Any:
        return renames.get(name, name) if isinstance(name, str) else name

    out = dict(base)
    out["initial"] = new(base.get("initial"))
    out["states"] = [{**st, "name": new(st.get("name"))} for st in base.get("states") or []]
    transitions = []
    for t in base.get("transitions") or []:
        t = dict(t)
        src = t.get("source")
        t["source"] = [new(x) for x in src] if isinstance(src, list) else new(src)
        t["dest"] = new(t.get("dest"))
        if isinstance(t.get("deadline"), dict):
            t["deadline"] = {**t["deadline"], "paused_in": [new(x) for x in t["deadline"].get("paused_in") or []]}
        transitions.append(t)
    out["transitions"] = transitions
    return out


def _list(raw: dict[str, Any], key: str, source: str) -> list[Any]:
    value = raw.get(key) or []
    if not isinstance(value, list):
        raise DefinitionError(f"{key} must be a list", line=_line(raw, key), source=source)
    return value


def _drop(items: list[dict[str, Any]], key: str, raw: dict[str, Any], removal: str,
          source: str) -> list[dict[str, Any]]:
    names = _names(raw.get(removal, []), removal, source, _line(raw, removal))
    unknown = sorted(set(names) - {i.get(key) for i in items})
    if unknown:
        raise DefinitionError(f"{removal}: the base has no {unknown[0]!r}", line=_line(raw, removal), source=source)
    return [i for i in items if i.get(key) not in names]


def resolve_text(text: str, source: str, search: Iterable[Path] = (BASES_DIR,)) -> str:
    """The text to store for a pipeline file: the file itself when it extends nothing, else the fully resolved
    definition (so a pinned version never depends on a base file that may change later)."""
    raw = load_yaml(text, source)
    if not isinstance(raw, dict) or "extends" not in raw:
        return text
    resolved, note = resolve(raw, source, search)
    header = (f"# {resolved.get('id')} version {resolved.get('version')}: resolved from {Path(source).name}, "
              f"which extends {note}.\n# This is the stored, pinned definition; edit the source files, not this.\n")
    return header + yaml.safe_dump(resolved, allow_unicode=True, sort_keys=False, width=120)

"""The pipeline as an SVG diagram with the current state highlighted, drawn without graphviz.

A fresh machine has no ``dot`` binary, so the layout is done here, tuned to what pipelines look like: one main
path from the initial state to the certificate, side states next to it (corrections, objections, appeals) and
a few outcomes reachable from almost everywhere (withdrawn, rejected).

* Layers: longest path from the initial state after reversing the edges that close a cycle (found by a
  depth-first search), so the main path runs top to bottom.
* Columns: the main path sits in column 0; every other state goes to the free column nearest its
  neighbours, right first.
* Edges between neighbouring layers are smooth curves; longer ones (and edges going back up) run in lanes
  outside every node they pass, so no edge crosses a box.
* "Hub" outcomes entered from many states get no edges (they would hide everything else); their box says
  how many steps lead there.

Layouts are computed once per (pipeline, version, locale) and SVGs cached per state: definitions never
change within a version, so the cache never needs invalidating and each process keeps its own copy.

:func:`pipeline_svg` draws the case page's diagram (the case's state highlighted); :func:`live_svg` draws the
same layout for the process view, with the live number of cases as a badge on every state box and each box a
link to its list of cases (counts change constantly, so those SVGs are not cached).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape

from workflow.pipeline.schema import Pipeline
from workflow.pipeline.stages import stage_catalogue

HUB_MIN_SOURCES = 4
"""An outcome entered from at least this many states is drawn without its incoming edges."""

NODE_H = 34
GAP_Y = 30
GAP_X = 36
LANE_STEP = 9
MARGIN = 16


@dataclass
class _Node:
    name: str
    label: str
    stage: str
    final: bool
    layer: int = 0
    col: int = 0
    hub_sources: int = 0


@dataclass
class _Edge:
    src: str
    dest: str
    label: str
    system: bool
    back: bool = False
    route: str = "direct"
    lane: int = 0


@dataclass
class _Layout:
    nodes: dict[str, _Node]
    edges: list[_Edge]
    width: int
    height: int
    node_w: int
    x_of: dict[str, float] = field(default_factory=dict)
    y_of: dict[str, float] = field(default_factory=dict)
    title: str = ""


@dataclass(frozen=True)
class _Live:
    """What the process view draws on top of the layout: cases per state and each state's list URL."""

    counts: dict[str, int]
    hrefs: dict[str, str]


def _stage_fill(stage_key: str) -> str:
    """Background of a stage's boxes (``definitions/stages.yaml``; white for a stage it does not list)."""
    stage = stage_catalogue().stage(stage_key)
    return stage.fill if stage else "#ffffff"


def _text_width(text: str, size: float = 13.0) -> float:
    """Rough rendered width: CJK and full-width characters are square, Latin ones about half as wide."""
    return sum(size if ord(ch) > 0x2E80 else size * 0.56 for ch in text)


def _main_path(p: Pipeline) -> list[str]:
    """The shortest route from the initial state to a favourable end (a certificate) along the ordinary
    forward steps (the spine). Side paths — withdrawals, returns, objections, refusals, revocation — are the
    transitions a definition styles as other than ``primary``, so the spine is read from the definition."""
    favourable = [s.name for s in p.states if s.final and s.outcome == "favourable"]
    goal = favourable[0] if favourable else (p.finals[0] if p.finals else p.initial)
    queue = deque([(p.initial, [p.initial])])
    seen = {p.initial}
    while queue:
        state, path = queue.popleft()
        if state == goal:
            return path
        for t in p.transitions:
            if state in t.source and t.dest not in seen and t.style == "primary":
                seen.add(t.dest)
                queue.append((t.dest, [*path, t.dest]))
    return [p.initial]


def _layout(p: Pipeline, locale: str) -> _Layout:
    lang = "en" if locale.startswith("en") else "zh"
    nodes = {s.name: _Node(s.name, getattr(s.label, lang), s.stage, s.final) for s in p.states}
    edges: dict[tuple[str, str], _Edge] = {}
    for t in p.transitions:
        for src in t.source:
            if src != t.dest and (src, t.dest) not in edges:
                edges[(src, t.dest)] = _Edge(src, t.dest, getattr(t.label, lang), t.roles == ["system"])
    sources: dict[str, int] = {}
    for (_, dest) in edges:
        sources[dest] = sources.get(dest, 0) + 1
    hubs = {n for n, count in sources.items() if count >= HUB_MIN_SOURCES and nodes[n].final}
    for h in hubs:
        nodes[h].hub_sources = sources[h]
    drawn = [e for e in edges.values() if e.dest not in hubs]

    # Depth-first search from the initial state marks edges that close a cycle as back edges.
    out: dict[str, list[_Edge]] = {n: [] for n in nodes}
    for e in drawn:
        out[e.src].append(e)
    state: dict[str, int] = {}

    def visit(n: str) -> None:
        """Depth-first visit marking edges into the current path as back edges."""
        state[n] = 1
        for e in out[n]:
            if state.get(e.dest) == 1:
                e.back = True
            elif e.dest not in state:
                visit(e.dest)
        state[n] = 2

    visit(p.initial)
    for n in nodes:
        if n not in state:
            visit(n)

    # Longest-path layering over forward edges (Kahn order).
    indeg = {n: 0 for n in nodes}
    forward = [e for e in drawn if not e.back]
    for e in forward:
        indeg[e.dest] += 1
    queue = deque(n for n in nodes if indeg[n] == 0)
    while queue:
        n = queue.popleft()
        for e in out[n]:
            if e.back:
                continue
            nodes[e.dest].layer = max(nodes[e.dest].layer, nodes[n].layer + 1)
            indeg[e.dest] -= 1
            if indeg[e.dest] == 0:
                queue.append(e.dest)
    last = max((nd.layer for name, nd in nodes.items() if name not in hubs), default=0)
    for i, h in enumerate(sorted(hubs, key=lambda n: list(nodes).index(n))):
        nodes[h].layer = last + 1
        nodes[h].col = i  # placed side by side below everything; recentred after columns are known

    # Columns: the spine in column 0, others nearest their neighbours (right side first).
    spine = set(_main_path(p))
    taken: set[tuple[int, int]] = set()
    for n in spine:
        nodes[n].col = 0
        taken.add((nodes[n].layer, 0))
    neighbours: dict[str, list[str]] = {n: [] for n in nodes}
    for e in drawn:
        neighbours[e.src].append(e.dest)
        neighbours[e.dest].append(e.src)
    placed = set(spine)
    pending = [n for n in nodes if n not in spine and n not in hubs]
    # Place states next to already placed neighbours first, so chains of side states stay together.
    while pending:
        pending.sort(key=lambda n: (-sum(1 for m in neighbours[n] if m in placed), list(nodes).index(n)))
        n = pending.pop(0)
        anchors = [nodes[m].col for m in neighbours[n] if m in placed]
        want = round(sum(anchors) / len(anchors)) if anchors else 0
        candidates = [want] if want != 0 else []
        for step in range(1, 12):
            candidates += [want + step, want - step] if want >= 0 else [want - step, want + step]
        for col in candidates:
            if col != 0 and (nodes[n].layer, col) not in taken:
                nodes[n].col = col
                taken.add((nodes[n].layer, col))
                break
        placed.add(n)
    if hubs:
        ordered = sorted(hubs, key=lambda n: nodes[n].col)
        start = -(len(ordered) // 2)
        for i, h in enumerate(ordered):
            nodes[h].col = start + i

    _route_edges(nodes, drawn)
    longest = max(_text_width(nd.label) for nd in nodes.values())
    node_w = int(max(110, longest + 24))
    min_col = min(nd.col for nd in nodes.values())
    max_col = max(nd.col for nd in nodes.values())
    layers = max(nd.layer for nd in nodes.values()) + 1
    col_w = node_w + GAP_X
    left_lanes = sum(1 for e in drawn if e.route == "left")
    right_lanes = sum(1 for e in drawn if e.route == "right")
    left_pad = MARGIN + (left_lanes + 1) * LANE_STEP
    layout = _Layout(nodes=nodes, edges=drawn, node_w=node_w, width=0, height=0, title=getattr(p.label, lang))
    for name, nd in nodes.items():
        layout.x_of[name] = left_pad + (nd.col - min_col) * col_w + node_w / 2
        layout.y_of[name] = MARGIN + nd.layer * (NODE_H + GAP_Y) + NODE_H / 2
    layout.width = int(left_pad + (max_col - min_col + 1) * col_w - GAP_X + MARGIN + (right_lanes + 1) * LANE_STEP)
    layout.height = int(MARGIN * 2 + layers * (NODE_H + GAP_Y) - GAP_Y + 14)
    return layout


def _route_edges(nodes: dict[str, _Node], edges: list[_Edge]) -> None:
    """Decide how each edge runs: directly between neighbouring layers, or in a lane left or right.

    A lane edge leaves and enters its boxes sideways, so the side is chosen where no other box of the same
    layer lies beyond either end (the horizontal stubs would cross it); back edges prefer the left, long
    forward edges the right, which keeps the two families apart.
    """
    by_layer: dict[int, list[int]] = {}
    for nd in nodes.values():
        by_layer.setdefault(nd.layer, []).append(nd.col)
    lanes = {"left": 0, "right": 0}
    for e in edges:
        a, b = nodes[e.src], nodes[e.dest]
        span = b.layer - a.layer
        if not e.back and (span == 1 or span == 0):
            e.route = "direct"
            continue
        if e.back and span == -1:
            e.route = "up"  # straight back to the layer above, beside the forward edge
            continue

        def blockers(side: str, a=a, b=b) -> int:
            """Boxes beyond either end on ``side`` that the edge's horizontal stubs would cross."""
            count = 0
            for nd in (a, b):
                cols = by_layer[nd.layer]
                count += sum(1 for c in cols if (c > nd.col if side == "right" else c < nd.col))
            return count

        preferred, other = ("left", "right") if e.back else ("right", "left")
        e.route = other if blockers(preferred) > blockers(other) else preferred
        e.lane = lanes[e.route]
        lanes[e.route] += 1


def _edge_path(layout: _Layout, e: _Edge) -> str:
    half_w, half_h = layout.node_w / 2, NODE_H / 2
    x1, y1 = layout.x_of[e.src], layout.y_of[e.src]
    x2, y2 = layout.x_of[e.dest], layout.y_of[e.dest]
    n1, n2 = layout.nodes[e.src], layout.nodes[e.dest]
    span = n2.layer - n1.layer
    if e.route == "direct" and span == 1:
        ys, ye = y1 + half_h, y2 - half_h
        mid = (ys + ye) / 2
        return f"M{x1:.1f},{ys:.1f} C{x1:.1f},{mid:.1f} {x2:.1f},{mid:.1f} {x2:.1f},{ye:.1f}"
    if e.route == "up":
        toward = 1 if x2 > x1 else -1 if x2 < x1 else 1
        sx, ex = x1 + toward * layout.node_w * 0.25, x2 - toward * layout.node_w * 0.25
        ys, ye = y1 - half_h, y2 + half_h
        mid = (ys + ye) / 2
        return f"M{sx:.1f},{ys:.1f} C{sx:.1f},{mid:.1f} {ex:.1f},{mid:.1f} {ex:.1f},{ye:.1f}"
    if e.route == "direct":  # same layer, side by side
        sign = 1 if x2 > x1 else -1
        return f"M{x1 + sign * half_w:.1f},{y1:.1f} L{x2 - sign * half_w:.1f},{y2:.1f}"
    lo, hi = min(n1.layer, n2.layer), max(n1.layer, n2.layer)
    between = [nd for nd in layout.nodes.values() if lo <= nd.layer <= hi]
    if e.route == "left":  # outside every box of the layers it passes
        edge_x = min(layout.x_of[nd.name] for nd in between) - half_w
        lane_x = edge_x - 8 - e.lane * LANE_STEP
        sx, ex = x1 - half_w, x2 - half_w
    else:
        edge_x = max(layout.x_of[nd.name] for nd in between) + half_w
        lane_x = edge_x + 8 + e.lane * LANE_STEP
        sx, ex = x1 + half_w, x2 + half_w
    y1o, y2o = y1 + 5, y2 - 5
    return f"M{sx:.1f},{y1o:.1f} L{lane_x:.1f},{y1o:.1f} L{lane_x:.1f},{y2o:.1f} L{ex:.1f},{y2o:.1f}"


def _render(layout: _Layout, current: str, locale: str, live: _Live | None = None) -> str:
    """The SVG of ``layout``: with ``current`` highlighted (case page), or with ``live`` counts (process view)."""
    en = locale.startswith("en")
    # With links inside, role="img" would hide them from assistive technology; the live view is a group.
    role = 'role="group" ' if live is not None else 'role="img" '
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="pipeline-diagram" {role}'
        f'viewBox="0 0 {layout.width} {layout.height}" width="{layout.width}" height="{layout.height}" '
        f'font-family="\'Noto Sans CJK SC\',\'WenQuanYi Zen Hei\',\'Microsoft YaHei\',sans-serif" font-size="13">',
        f"<title>{escape(layout.title)}</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#6b7785"/></marker>'
        '<marker id="arrow-hot" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#0d5bd7"/></marker></defs>',
    ]
    for e in layout.edges:
        hot = e.src == current
        stroke = "#0d5bd7" if hot else "#8a96a3"
        dash = ' stroke-dasharray="5,4"' if e.system else ""
        parts.append(f'<path d="{_edge_path(layout, e)}" fill="none" stroke="{stroke}" '
                     f'stroke-width="{1.8 if hot else 1.2}"{dash} marker-end="url(#{"arrow-hot" if hot else "arrow"})">'
                     f"<title>{escape(e.label)}</title></path>")
    for name, nd in layout.nodes.items():
        x = layout.x_of[name] - layout.node_w / 2
        y = layout.y_of[name] - NODE_H / 2
        if live is not None:
            parts.append(_live_node(layout, nd, x, y, live, en))
            continue
        is_current = name == current
        fill = "#0d5bd7" if is_current else _stage_fill(nd.stage)
        stroke = "#0a47a8" if is_current else ("#4a5562" if nd.final else "#9aa5b1")
        width = 2.5 if is_current or nd.final else 1
        dash = ' stroke-dasharray="4,3"' if nd.hub_sources else ""
        text_fill = "#ffffff" if is_current else "#1d2733"
        weight = ' font-weight="bold"' if is_current else ""
        marker = ' data-current="true"' if is_current else ""
        parts.append(f'<g class="state" data-state="{escape(name)}"{marker}>')
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{layout.node_w}" height="{NODE_H}" rx="7" '
                     f'fill="{fill}" stroke="{stroke}" stroke-width="{width}"{dash}/>')
        parts.append(f'<text x="{layout.x_of[name]:.1f}" y="{layout.y_of[name] + 4.5:.1f}" text-anchor="middle" '
                     f'fill="{text_fill}"{weight}>{escape(nd.label)}</text>')
        if nd.hub_sources:
            parts.append(_hub_note(layout, nd, y, en))
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def _hub_note(layout: _Layout, nd: _Node, y: float, en: bool) -> str:
    """The line under a hub outcome saying how many steps lead there (its edges are not drawn)."""
    note = (f"reachable from {nd.hub_sources} steps" if en else f"可由{nd.hub_sources}个环节进入")
    return (f'<text x="{layout.x_of[nd.name]:.1f}" y="{y + NODE_H + 12:.1f}" text-anchor="middle" '
            f'fill="#5b6673" font-size="10.5">{escape(note)}</text>')


def _live_node(layout: _Layout, nd: _Node, x: float, y: float, live: _Live, en: bool) -> str:
    """One state box of the process view: count badge, emphasis when occupied, a link to its cases.

    Occupied states get a dark outline, bold text and a filled blue badge; empty ones are drawn lighter with
    a grey "0" badge, so the eye goes to where cases are while every state still shows its number.
    """
    count = live.counts.get(nd.name, 0)
    busy = count > 0
    fill = _stage_fill(nd.stage) if busy else "#fbfcfd"
    stroke = "#0a47a8" if busy else ("#7d8894" if nd.final else "#b8c1cb")
    width = 2.5 if busy else (1.6 if nd.final else 1)
    dash = ' stroke-dasharray="4,3"' if nd.hub_sources else ""
    text_fill = "#10233d" if busy else "#5b6673"
    weight = ' font-weight="bold"' if busy else ""
    text = f"{count}"
    badge_w = 12 + 7.5 * len(text)
    right = x + layout.node_w
    bx, by = right - badge_w + 6, y - 9
    badge_fill, badge_stroke, badge_text = ("#0d5bd7", "#ffffff", "#ffffff") if busy else \
        ("#e9edf1", "#c5cdd6", "#4a5562")
    title = (f"{nd.label}: {count} case{'s' if count != 1 else ''}" if en else f"{nd.label}：{count} 件")
    href = live.hrefs.get(nd.name)
    box = (f'<rect x="{x:.1f}" y="{y:.1f}" width="{layout.node_w}" height="{NODE_H}" rx="7" '
           f'fill="{fill}" stroke="{stroke}" stroke-width="{width}"{dash}/>')
    out = [f'<g class="state{" state-busy" if busy else ""}" data-state="{escape(nd.name)}" data-count="{count}">',
           f"<title>{escape(title)}</title>"]
    # Only the box is the link: the page's stylesheet underlines text inside links (also in SVG), and inline
    # styles are refused by the CSP, so the texts sit on top with pointer-events off and clicks reach the box.
    out.append(f'<a href="{escape(href)}" aria-label="{escape(title)}">{box}</a>' if href else box)
    out.append(f'<text x="{layout.x_of[nd.name]:.1f}" y="{layout.y_of[nd.name] + 4.5:.1f}" text-anchor="middle" '
               f'fill="{text_fill}" pointer-events="none"{weight}>{escape(nd.label)}</text>')
    out.append(f'<g class="count-badge" pointer-events="none" aria-hidden="true">'
               f'<rect x="{bx:.1f}" y="{by:.1f}" width="{badge_w:.1f}" height="18" rx="9" '
               f'fill="{badge_fill}" stroke="{badge_stroke}" stroke-width="1.5"/>'
               f'<text x="{bx + badge_w / 2:.1f}" y="{by + 13:.1f}" text-anchor="middle" font-size="12" '
               f'font-weight="bold" fill="{badge_text}">{text}</text></g>')
    if nd.hub_sources:
        out.append(_hub_note(layout, nd, y, en))
    out.append("</g>")
    return "".join(out)


_layouts: dict[tuple[str, int, str], _Layout] = {}
_svgs: dict[tuple[str, int, str, str], str] = {}
_lock = threading.Lock()


def _cached_layout(pipeline: Pipeline, lang: str) -> _Layout:
    """The layout of ``pipeline`` in ``lang`` (computed once per version and language)."""
    lkey = (pipeline.id, pipeline.version, lang)
    layout = _layouts.get(lkey)
    if layout is None:
        layout = _layout(pipeline, lang)
        with _lock:
            layout = _layouts.setdefault(lkey, layout)
    return layout


def pipeline_svg(pipeline: Pipeline, current: str, locale: str = "zh_CN") -> str:
    """The SVG markup of ``pipeline`` with ``current`` highlighted (cached per version, state and locale)."""
    lang = "en" if locale.startswith("en") else "zh"
    key = (pipeline.id, pipeline.version, current, lang)
    svg = _svgs.get(key)
    if svg is not None:
        return svg
    svg = _render(_cached_layout(pipeline, lang), current, lang)
    with _lock:
        _svgs.setdefault(key, svg)
    return svg


@dataclass(frozen=True)
class DiagramState:
    """One box of the diagram in words: the state's label, whether the case is there, whether it ends the case."""

    name: str
    label: str
    current: bool
    final: bool


def diagram_states(pipeline: Pipeline, current: str, locale: str = "zh_CN") -> list[DiagramState]:
    """The diagram's text equivalent: every state in the order it is drawn (top to bottom, left to right),
    ``current`` marked, so a reader who cannot see the drawing gets the same list of steps."""
    lang = "en" if locale.startswith("en") else "zh"
    layout = _cached_layout(pipeline, lang)
    order = sorted(layout.nodes, key=lambda n: (layout.y_of[n], layout.x_of[n]))
    return [DiagramState(n, layout.nodes[n].label, n == current, layout.nodes[n].final) for n in order]


def live_svg(pipeline: Pipeline, counts: Mapping[str, int], hrefs: Mapping[str, str], locale: str = "zh_CN") -> str:
    """The SVG of ``pipeline`` with the live number of cases on every state box (the process view).

    ``counts`` maps states to their number of cases (missing: 0); ``hrefs`` maps states to the URL of their
    case list, and each box becomes a link to it. Not cached: the counts change with every transition, and
    drawing from the cached layout costs well under a millisecond.
    """
    lang = "en" if locale.startswith("en") else "zh"
    return _render(_cached_layout(pipeline, lang), "", lang, _Live(dict(counts), dict(hrefs)))

"""What the keyboard and elder-friendly-mode browser tests share: reading focus, sizes and overflow off a page."""

from __future__ import annotations

FOCUS_STATE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  return {tag: el.tagName.toLowerCase(), id: el.id, name: el.getAttribute('name') || '',
          text: (el.innerText || el.value || '').trim().slice(0, 40),
          outlineStyle: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth) || 0,
          boxShadow: style.boxShadow, width: box.width, height: box.height};
}"""
"""The focused element and how its focus is drawn (None when nothing is focused)."""

FOLLOWS_IN_DOCUMENT = """([before, after]) => {
  const a = document.querySelector(before), b = document.activeElement;
  return !!a && !!b && !!(a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING);
}"""

OVERFLOWING = """() => {
  // Elements that stick out past the right edge of the viewport without a scroll container of their own.
  const limit = document.documentElement.clientWidth;
  const found = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.right <= limit + 0.5) continue;
    let inside = false;
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const ox = getComputedStyle(p).overflowX;
      if (ox === 'auto' || ox === 'scroll' || ox === 'hidden') { inside = true; break; }
    }
    const classes = typeof el.className === 'string' && el.className ? '.' + el.className.split(' ').join('.') : '';
    if (!inside) found.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + classes +
                            ' right=' + Math.round(box.right));
  }
  return found.slice(0, 12);
}"""
"""Up to a dozen elements that make the page wider than the viewport (for the failure message)."""


def focus_is_visible(state: dict | None) -> bool:
    """True when the focused element is drawn with the site's focus indicator: a solid outline of at least
    2 px (the browser's own thin ``auto`` ring does not count) or a box shadow ring."""
    if state is None:
        return False
    outlined = state["outlineStyle"] not in ("none", "auto") and state["outlineWidth"] >= 2
    return outlined or state["boxShadow"] not in ("", "none")


def font_px(page, selector: str) -> float:
    """The computed font size, in CSS pixels, of the first element matching ``selector``."""
    return page.eval_on_selector(selector, "el => parseFloat(getComputedStyle(el).fontSize)")


def horizontal_overflow(page) -> tuple[int, int, list[str]]:
    """(scrollWidth, clientWidth, the elements sticking out) of the page's root element."""
    widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    return widths[0], widths[1], page.evaluate(OVERFLOWING)


def small_targets(page, selector: str, minimum: float = 44) -> list[str]:
    """Visible elements matching ``selector`` less than ``minimum`` px tall (touch targets), described."""
    return page.eval_on_selector_all(selector, """(els, minimum) => els
      .filter(el => el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden')
      .filter(el => el.getBoundingClientRect().height + 0.5 < minimum)
      .map(el => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''} "${(el.innerText || el.value || '')
        .trim().slice(0, 20)}" ${Math.round(el.getBoundingClientRect().height)}px`)""", minimum)

"""Measurements of a page on a phone, shared by the residents' pages
(test_online_journeys) and the staff pages (test_staff_on_phones), so both are held
to the same tap-target and text-size rules."""

from __future__ import annotations

from typing import Any

# Everything a finger taps. Radios and checkboxes are tapped through their labels.
# `within` narrows the check to some parts of the page (a CSS selector list): the
# residents' pages hold every control to it, the staff pages their forms and menus.
TAP_TARGETS_JS = """([minimum, within]) => {
  const small = [];
  const controls = document.querySelectorAll(
    'a[href], button, select, textarea, summary, input:not([type=hidden]):not([type=radio])' +
    ':not([type=checkbox]), label:has(input[type=radio]), label:has(input[type=checkbox])');
  for (const el of controls) {
    if (!el.closest(within)) continue;
    const r = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (r.width === 0 || r.right < 0 || style.visibility === 'hidden') continue;  // off-screen
    if (el.closest('[aria-hidden=true]')) continue;  // the honeypot
    if (r.height < minimum - 0.5 || r.width < 44 - 0.5) {
      small.push(`${el.tagName} "${(el.textContent || el.name || '').trim().slice(0, 20)}" ` +
                 `${Math.round(r.width)}x${Math.round(r.height)}`);
    }
  }
  return small;
}"""

SMALL_TEXT_JS = """(minimum) => {
  const small = [];
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || el.getBoundingClientRect().width === 0) continue;
    if (el.closest('[aria-hidden=true]')) continue;  // the honeypot
    const px = parseFloat(getComputedStyle(el).fontSize);
    if (px < minimum) small.push(`${el.tagName} "${el.textContent.trim().slice(0, 20)}" ${px}px`);
  }
  return small;
}"""


def small_tap_targets(page: Any, minimum: float = 44, within: str = "body") -> list[str]:
    """Controls under `within` less than 44 px wide or `minimum` px high, one line each."""
    return page.evaluate(TAP_TARGETS_JS, [minimum, within])


def small_text(page: Any, minimum: float) -> list[str]:
    """Visible text set smaller than `minimum` px, one line per element."""
    return page.evaluate(SMALL_TEXT_JS, minimum)

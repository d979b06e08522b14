"""A page used from the keyboard alone (GB/T 37668-2019; WCAG 2.1 2.1.1 keyboard, 2.1.2
no keyboard trap, 2.4.1 bypass blocks, 2.4.3 focus order, 2.4.7 focus visible):
moving the focus with Tab, and measuring what each focused element looks like.

`audit` walks a page once round with Tab and lists what is wrong with it, one line
each, so a test can collect every page's faults before it fails (as the axe and phone
tests do).
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from tests.browser.settle import settle

SKIP_LINK = "跳到主要内容"

# What Tab should reach: the visible, enabled controls not taken out of the order. Of
# a group of radios Tab reaches one (the checked one, else the first); the arrow keys
# move within the group, so a group counts once. `data-kb` numbers them for the walk.
FOCUSABLE_JS = """() => {
  const wanted = [];
  const groups = new Set();
  const all = document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]');
  let n = 0;
  for (const el of all) {
    el.dataset.kb = String(n++);
    if (el.tabIndex < 0 || el.disabled || el.closest('[inert]')) continue;
    if (el.tagName === 'SUMMARY' && el.parentElement.tagName !== 'DETAILS') continue;
    if (!el.getClientRects().length || getComputedStyle(el).visibility === 'hidden') continue;
    if (el.closest('details:not([open])') && el.tagName !== 'SUMMARY') continue;
    if (el.closest('[aria-hidden=true]')) continue;  // the residents' honeypot
    if (el.type === 'radio') {
      if (groups.has(el.name)) continue;
      groups.add(el.name);
      wanted.push('radio:' + el.name);
      continue;
    }
    wanted.push(el.dataset.kb);
  }
  const positive = [...document.querySelectorAll('[tabindex]')]
    .filter(el => el.tabIndex > 0)
    .map(el => `${el.tagName} "${(el.textContent || el.name || '').trim().slice(0, 20)}"`);
  return {wanted, positive};
}"""

# The focused element: who it is, where it is and how it looks.
LOOK = """el => {
  const s = getComputedStyle(el);
  return [s.outlineStyle, s.outlineWidth, s.outlineColor, s.boxShadow,
          s.borderTopColor, s.borderTopWidth, s.borderBottomColor, s.borderBottomWidth,
          s.backgroundColor, s.textDecorationLine, s.color].join('|');
}"""

FOCUSED_JS = f"""() => {{
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const r = el.getBoundingClientRect();
  const key = el.type === 'radio' ? 'radio:' + el.name : (el.dataset.kb || '?');
  return {{key, kb: el.dataset.kb || '?', look: ({LOOK})(el),
          name: `${{el.tagName}} "${{(el.innerText || el.textContent || el.name || '')
            .trim().replace(/\\s+/g, ' ').slice(0, 20)}}"`,
          left: r.left + scrollX, top: r.top + scrollY, width: r.width, height: r.height,
          inView: r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth}};
}}"""

UNFOCUSED_JS = f"""kbs => {{
  if (document.activeElement) document.activeElement.blur();
  const look = {LOOK};
  return kbs.map(kb => {{
    const el = document.querySelector(`[data-kb="${{kb}}"]`);
    return el ? look(el) : null;
  }});
}}"""


NAMES_JS = """keys => keys.map(k => {
  const el = k.startsWith('radio:') ? document.querySelector(`input[name="${k.slice(6)}"]`)
                                    : document.querySelector(`[data-kb="${k}"]`);
  return `${el.tagName} "${(el.textContent || el.name || '').trim().slice(0, 20)}"`;
})"""


def focused(page: Any) -> dict[str, Any] | None:
    return page.evaluate(FOCUSED_JS)


def _px(value: str) -> float:
    match = re.match(r"[\d.]+", value)
    return float(match.group()) if match else 0.0


def _shows_focus(focused_look: str, unfocused_look: str) -> bool:
    """An outline (Chromium's own `auto` ring or a drawn one of at least 1 px, not
    transparent), or a box shadow, border, background or underline that only focus
    brings."""
    style, width, color = focused_look.split("|")[:3]
    if style == "auto" or (
        style != "none" and _px(width) >= 1 and color not in ("transparent", "rgba(0, 0, 0, 0)")
    ):
        return True
    return focused_look.split("|")[3:] != unfocused_look.split("|")[3:]


def audit(page: Any, from_top: bool = False) -> list[str]:
    """Walks the page once round with Tab and returns its faults.

    from_top: the walk starts at the top of a freshly loaded page, so the first stop
    must be the skip link, shown when focused, and leading into <main>."""
    settle(page)
    # A page that puts the focus in its first field (the login form) has no skip link
    # to offer first.
    autofocus = page.evaluate("() => document.activeElement !== document.body")
    info = page.evaluate(FOCUSABLE_JS)
    wanted: list[str] = info["wanted"]
    bad: list[str] = []
    if info["positive"]:
        bad.append(f"positive tabindex (focus order unlike reading order): {info['positive']}")
    stops: list[dict[str, Any]] = []
    seen: set[str] = set()
    # Round the page, with room for the stops between the last control and the first.
    moves, repeats = 0, 0
    while moves < len(wanted) * 2 + 4:
        page.keyboard.press("Tab")
        here = focused(page)
        if stops and here is not None and here["key"] == stops[-1]["key"]:
            # A date or time field: Tab steps through its year, month, day, hour and
            # minute before it moves on. Much more than that is a trap.
            repeats += 1
            if repeats > 8:
                bad.append(f"Tab does not leave {here['name']}")
                break
            continue
        moves, repeats = moves + 1, 0
        if here is None:  # past the last control, before the first
            continue
        if here["key"] in seen:
            break
        seen.add(here["key"])
        stops.append(here)
    if missing := [k for k in wanted if k not in seen]:
        names = page.evaluate(NAMES_JS, missing)
        bad.append(f"not reached by Tab (trapped, or skipped): {names}")
    if from_top and not autofocus:
        first = stops[0] if stops else None
        if not first or first["name"] != f'A "{SKIP_LINK}"':
            where = first and first["name"]
            bad.append(f"the first stop is {where}, not the skip link {SKIP_LINK}")
        elif not first["inView"] or first["width"] < 1:
            bad.append("the skip link stays hidden when focused")
    looks = page.evaluate(UNFOCUSED_JS, [s["kb"] for s in stops])
    unseen = [
        s["name"]
        for s, look in zip(stops, looks, strict=True)
        if look is not None and not _shows_focus(s["look"], look)
    ]
    if unseen:
        bad.append(f"no visible focus indicator: {unseen}")
    # Reading order, left to right and top to bottom: a step up the page must go to
    # the right (the next column of a grid), not back up and to the left.
    # Tab goes in document order (no positive tabindex), so a step back in it is the
    # walk going round from the last control to the first: no fault.
    for before, after in itertools.pairwise(stops):
        if int(after["kb"]) < int(before["kb"]):
            continue
        if after["top"] < before["top"] - 20 and after["left"] < before["left"] - 20:
            bad.append(f"focus jumps back up from {before['name']} to {after['name']}")
    return bad


def tab_to(page: Any, matches: Any, limit: int = 80, back: bool = False) -> dict[str, Any]:
    """Presses Tab (Shift+Tab if `back`) until the focused element satisfies
    `matches` (a JavaScript predicate over the element, as a string)."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        if page.evaluate(f"() => !!document.activeElement && ({matches})(document.activeElement)"):
            here = focused(page)
            assert here is not None
            return here
    raise AssertionError(f"Tab never reached {matches}")


def named(text: str) -> str:
    """A predicate: a link or button whose text is `text`."""
    return f"el => (el.innerText || el.value || '').trim() === {text!r}"


def labelled(label: str) -> str:
    """A predicate: a field whose label's text starts with `label`."""
    return (
        "el => !!el.labels && [...el.labels].some("
        f"l => l.textContent.trim().replace(/\\s+/g, ' ').startsWith({label!r}))"
    )


def choose_by_keys(page: Any, words: str, limit: int = 60) -> None:
    """On the focused <select>: ArrowDown (ArrowUp once at the end) until the chosen
    option's text contains `words`."""
    chosen = "() => document.activeElement.selectedOptions[0]?.textContent || ''"
    for key in ("ArrowDown", "ArrowUp"):
        for _ in range(limit):
            if words in page.evaluate(chosen):
                return
            before = page.evaluate(chosen)
            page.keyboard.press(key)
            if page.evaluate(chosen) == before:
                break
    raise AssertionError(f"no option with {words!r} chosen by the arrow keys")


def check_radio_by_keys(page: Any, label: str, limit: int = 10) -> None:
    """In the focused group of radios: ArrowDown until the one labelled `label` is
    checked (the arrow keys check as they move)."""
    checked = "() => document.activeElement.checked && document.activeElement.labels[0].innerText"
    for _ in range(limit):
        if (page.evaluate(checked) or "").strip() == label:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"the arrow keys never checked {label!r}")

"""Waiting for a page to be ready to be checked, without waiting for the network to
fall silent.

Playwright's "networkidle" (no request for 500 ms) is discouraged by its own
documentation, and it failed a CI run here: on a loaded machine an admin page that had
loaded and had nothing left to fetch did not reach it within ten seconds. What the
checks need is narrower and can be asked of the page: the load event has fired (scripts
and styles in), the fonts are in (sizes are measured), and no htmx request is in flight
(htmx marks the element that sent one with `htmx-request` until its answer is swapped in).
A page that polls (an import's or an export's progress) keeps polling; that is not a
request in flight between polls, so it settles too.
"""

from __future__ import annotations

from typing import Any

SETTLED_JS = """() => document.readyState === 'complete'
  && document.fonts.status === 'loaded'
  && !document.querySelector('.htmx-request')"""


def settle(page: Any) -> None:
    """Returns once the page has loaded, its fonts are in and htmx is not waiting."""
    page.wait_for_load_state("load")
    page.wait_for_function(SETTLED_JS)

"""HTML escaping without Django's lazy-argument check on every call.

`django.utils.html.escape` is wrapped by `keep_lazy`, which builds a generator over
`itertools.chain(args, kwargs.values())` on each call to ask whether an argument is a
lazy string. The wrapper costs twice the escaping itself, and a 50-row case list
escapes some 740 values (its rows, and the template engine's autoescaping, which
reaches `escape` through `conditional_escape`): about 2 ms of the page's 25 (finding 37
of docs/performance.md).

`escape` below answers exactly as Django's does: the same text, a `SafeString`, an
already-safe string escaped again, and a lazy string in, a lazy result out (by handing
it to Django's own function). tests/core/test_markup.py compares the two over a corpus,
so a Django upgrade that changes escaping fails there rather than drifting.
"""

from __future__ import annotations

import html
from typing import Any

from django.utils import html as django_html
from django.utils.functional import Promise
from django.utils.safestring import SafeString

# Django's own escape, kept for lazy strings (and as the reference in the tests).
django_escape = django_html.escape


def escape(text: Any) -> Any:
    if isinstance(text, Promise):
        return django_escape(text)
    return SafeString(html.escape(str(text)))


def escape_text(value: Any) -> str:
    """The same text as `escape`, as a plain str: for a writer of markup that marks the
    whole of what it wrote safe once (the ledger's rows), where a SafeString per value
    would be made only to be joined."""
    return html.escape(str(value))


def install() -> None:
    """Let Django's `conditional_escape` (the template engine's autoescaping, format_html)
    use the escape above: it looks `escape` up in django.utils.html's globals on each
    call. Modules that imported Django's `escape` by name keep the original, which
    gives the same answers."""
    django_html.escape = escape

"""How much free text a person may type into one field, by the kind of text.

Without a cap a pasted document (100,000 characters and more) was saved as a "note": it
is never a real note, it swells every page, print and text message that shows it, and an
Excel export (xlsxwriter) cuts a cell at 32,767 characters, losing the rest silently.
So every kind of text has a deliberate size, well below that, given once here and read
by the model fields (`max_length` on a TextField: the forms built from the model and the
textarea's `maxlength` take it; the database does not, so existing longer rows still
show and export), the forms that are not built from a model, the API's schemas and the
imports. The sizes come from the paper forms: a reason or a remark is a few lines of a
box; an account (a visit, a session, a plan) a paragraph or two; a document (the
opinion itself, the written answer, minutes) a page or a few; a report the system
drafts from the records and a person edits, a few more. The online studio's resident
writes at most 3,000 (minyi/online/forms.py CONTENT_MAX): a staff member registering
the same opinion from paper may write more, never less.
docs/decisions.md "Free text: a size for each kind" records the choice."""

from __future__ import annotations

from collections.abc import Callable

# 理由、意见、备注、说明: a few lines, e.g. why a case goes back or an event is cancelled.
NOTE_MAX = 1000
# 走访情况、活动情况、办理计划、协商结果、当场答复、结果说明: an account of a paragraph or two.
ACCOUNT_MAX = 2000
# 反映内容、书面答复、协商纪要、活动内容: a document of a few pages.
DOCUMENT_MAX = 10000
# 双月报告、通报正文: drafted by the system from the records (every event's summary, every
# studio's outcome) and then edited, so a busy studio's or the city's draft fits. A
# draft never exceeds it (`fitted`): what did not fit is shortened, and the draft says
# where the whole is.
REPORT_MAX = 20000

# The longest cell an Excel export can hold: every cap above stays below it.
EXCEL_CELL_MAX = 32767


def too_long(label: str, limit: int, length: int | None = None) -> str:
    """The message for text over its cap where no form field stands beside it (the API,
    an import's row): the field is named, as on a page the field's error is by its
    place (minyi/locale gives Django's own message there)."""
    now = f"，现在是 {length} 个字" if length is not None else ""
    return f"{label}最多只能填 {limit} 个字{now}，请删减后再提交。"


# Where a quoted text was cut short.
CUT = "……"


def shortened(text: str, length: int) -> str:
    """`text` in at most `length` characters: whole when it fits, else its beginning and
    CUT (just CUT when no beginning fits), so that a drafted text can quote it."""
    if len(text) <= length:
        return text
    if length <= len(CUT):
        return CUT
    return text[: length - len(CUT)] + CUT


def fitted(draft: Callable[[int], str], *, limit: int, most: int) -> str | None:
    """A drafted text within `limit`: `draft(n)` for the largest `n` from 0 to `most`
    found to fit, where `n` is how much of what may be shortened the draft keeps (the
    characters of each quoted summary, the rows of a list) and `draft(most)` keeps all
    of it. None when even `draft(0)` is over. A bisection: a draft grows with `n`, and
    the `n` returned fits whatever `draft` does."""
    whole = draft(most)
    if len(whole) <= limit:
        return whole
    least = draft(0)
    if len(least) > limit:
        return None
    fits, over = 0, most
    while over - fits > 1:
        middle = (fits + over) // 2
        if len(draft(middle)) <= limit:
            fits = middle
        else:
            over = middle
    return draft(fits)


def clipped(text: str, limit: int, why: str) -> str:
    """The last resort for a draft that `fitted` could not bring within `limit`: its
    beginning and `why` (where the rest is), `limit` characters in all."""
    if len(text) <= limit:
        return text
    tail = f"{CUT}\n{why}"
    return text[: limit - len(tail)] + tail

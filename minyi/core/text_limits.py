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

# 理由、意见、备注、说明: a few lines, e.g. why a case goes back or an event is cancelled.
NOTE_MAX = 1000
# 走访情况、活动情况、办理计划、协商结果、当场答复、结果说明: an account of a paragraph or two.
ACCOUNT_MAX = 2000
# 反映内容、书面答复、协商纪要、活动内容: a document of a few pages.
DOCUMENT_MAX = 10000
# 双月报告、通报正文: drafted by the system from the records (every event's summary, every
# studio's outcome) and then edited, so a busy studio's or the city's draft fits.
REPORT_MAX = 20000

# The longest cell an Excel export can hold: every cap above stays below it.
EXCEL_CELL_MAX = 32767


def too_long(label: str, limit: int, length: int | None = None) -> str:
    """The message for text over its cap where no form field stands beside it (the API,
    an import's row): the field is named, as on a page the field's error is by its
    place (minyi/locale gives Django's own message there)."""
    now = f"，现在是 {length} 个字" if length is not None else ""
    return f"{label}最多只能填 {limit} 个字{now}，请删减后再提交。"

"""Formula injection (CSV/Excel injection): text that a spreadsheet would read as a
formula when a cell is edited, or when the sheet is saved as CSV and opened again.

Every text cell is written with `write_string`, so Excel stores it as text; on top of
that, text starting with a trigger character gets a leading apostrophe (OWASP's
advice), which survives a trip through CSV. Excel and WPS also start a formula on the
full-width forms ＝＋－＠ that Chinese input methods produce, so those count too."""

from __future__ import annotations

TRIGGERS = frozenset("=+-@\t\r\n＝＋－＠")
QUOTE = "'"


def neutralise(text: str) -> str:
    if text and text[0] in TRIGGERS:
        return QUOTE + text
    return text


def restore(text: str) -> str:
    """The inverse for imports: our own apostrophe comes off again."""
    if len(text) > 1 and text[0] == QUOTE and text[1] in TRIGGERS:
        return text[1:]
    return text

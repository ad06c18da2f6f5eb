"""How a lease reference of the extract is matched to a lease of Ancrage.

ERPs and spreadsheets change references on the way: case (``b-001``), spaces (``B 001``,
``B-001 ``, a no-break space), leading zeros (``001234`` read by Excel as the number
``1234``, or ``B-0042`` against ``B-42``). Both sides are compared by ``reference_key``:
upper case, every space removed, and the leading zeros of each run of digits dropped
(``0`` stays ``0``). Two different references of one landlord with the same key are
ambiguous: a row with that key is matched to neither (``rows._ambiguous_references``,
docs/housing.md)."""

from __future__ import annotations

import re

_SPACES = dict.fromkeys(map(ord, " \t\r\n\v\f\u00a0\u202f\u2009\u2007\u2008\u200a\u200b"))
_LEADING_ZEROS = re.compile(r"(?<!\d)0+(?=\d)")
_DIGITS = "0123456789"


def reference_key(value: object) -> str:
    """The comparison key of a lease reference (empty for a blank cell). Called for every
    row of a whole-portfolio extract: printable ASCII (the usual reference) can hold no
    space but U+0020, removed by ``str.replace``; anything else goes through the table."""
    if value is None:
        return ""
    if value.__class__ is not str:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        value = str(value)
    if not (value.isascii() and value.isprintable()):
        text = value.translate(_SPACES).upper()
        return _LEADING_ZEROS.sub("", text) if "0" in text else text
    text = (value.replace(" ", "") if " " in value else value).upper()
    if "0" not in text:
        return text
    head = text.rstrip(_DIGITS)
    if "0" in head:
        return _LEADING_ZEROS.sub("", text)
    # The usual ``RH-0001234``: only the final run of digits has leading zeros.
    return head + (text[len(head) :].lstrip("0") or "0")

"""Text from a bundle made safe for a terminal.

Asset names, titles and JSON fields come from whoever made the bundle. Printed raw, an escape
sequence could move the cursor, rewrite earlier lines, set the window title or hide text, and a
bidi override could reorder what a person reads. Every message about a bundle goes through
:func:`printable` before it reaches stdout or stderr.
"""

from __future__ import annotations

MAX_MESSAGE = 2000
"""Longest message printed (characters, after escaping)."""


def printable(text: object, limit: int = MAX_MESSAGE) -> str:
    """``text`` with every non-printable character (controls, escapes, bidi marks, lone surrogates,
    line breaks) written as a ``\\xNN``/``\\uNNNN`` escape, cut to ``limit`` characters."""
    out = []
    for ch in str(text):
        if ch.isprintable():
            out.append(ch)
        else:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    s = "".join(out)
    return s if len(s) <= limit else s[: limit - 1] + "…"

"""Text that any output can hold."""

from __future__ import annotations


def printable(text: str) -> str:
    """`text` with what no UTF-8 output can hold shown as escapes.

    Tar names are bytes, decoded as UTF-8 with `surrogateescape`: a name that is not UTF-8
    keeps each odd byte as a lone surrogate, shown here as `\\xNN`. JSON documents (an image
    config's history) may hold any other lone surrogate (`"\\ud800"`): shown as `\\uNNNN`.
    """
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "".join(_escape(ch) for ch in text)
    return text


def _escape(ch: str) -> str:
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"
    if 0xD800 <= code <= 0xDFFF:
        return f"\\u{code:04x}"
    return ch

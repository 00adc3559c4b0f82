"""Names as people see them: invisible characters (bidi controls, zero-width, controls) shown escaped.

A right-to-left override makes "\u202etxt.exe\u202c-team" display as "exe.txt-team", and a zero-width
space makes "ad\u200bmin" display exactly as "admin". The database keeps every name exactly as it
came; every surface (pages, CLI, reports) shows it through `shown()`, which writes each such
character as <U+XXXX>, and two names that differ only by them are flagged as lookalikes.
"""

from __future__ import annotations

import re
import unicodedata

# Bidi embeddings, overrides, isolates and marks; zero-width and invisible formatting; C0/C1 controls.
_RANGES = ("\x00-\x1f", "\x7f-\x9f", "\u00ad", "\u034f", "\u061c", "\u115f\u1160", "\u17b4\u17b5", "\u180b-\u180f",
           "\u200b-\u200f", "\u2028-\u202e", "\u2060-\u206f", "\u3164", "\ufe00-\ufe0f", "\ufeff", "\uffa0",
           "\ufff0-\ufffb", "\U000e0000-\U000e007f")
INVISIBLE = re.compile("[" + "".join(_RANGES) + "]")


def _visible(match: re.Match) -> str:
    return f"<U+{ord(match.group()):04X}>"


def shown(name: object) -> object:
    """A name with every invisible or direction-changing character written as <U+XXXX>; non-text as it is."""
    if not isinstance(name, str):
        return name
    return INVISIBLE.sub(_visible, name) if INVISIBLE.search(name) else name


def has_invisible(name: str) -> bool:
    """True when the name holds a character that changes how it displays without showing itself."""
    return bool(INVISIBLE.search(name or ""))


def skeleton(name: str) -> str:
    """The name as it displays: invisible characters removed, compatibility forms folded (NFKC)."""
    return unicodedata.normalize("NFKC", INVISIBLE.sub("", name or ""))


def lookalikes(names: list[str]) -> list[list[str]]:
    """Groups of distinct names that display alike (same skeleton) where one holds an invisible character."""
    groups: dict[str, set[str]] = {}
    for name in names:
        groups.setdefault(skeleton(name), set()).add(name)
    return [sorted(g) for g in groups.values() if len(g) > 1 and any(has_invisible(n) for n in g)]


def invisible_pattern() -> str:
    """The character class of INVISIBLE for a PostgreSQL regular expression (a parameter: text holds no NUL)."""
    return INVISIBLE.pattern.replace("\x00", "\x01", 1)

"""What a cost line pays for, read from the bill's own words: tokens, or a non-token charge.

Non-token AI charges (web search, file search, code execution, images, fine-tuning, storage)
are kept in their own kind and shown apart from token spend; they never share out as tokens.
Token lines also say which tokens (input, cached input, 5-minute or 1-hour cache writes, output)
when the bill does.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

KINDS = ("tokens", "web_search", "file_search", "code_execution", "images", "fine_tuning", "storage", "other")
TOKEN_TYPES = ("input", "cached_input", "cache_write_5m", "cache_write_1h", "output")

# Order matters: "vector store storage" is storage before it is file search.
_NON_TOKEN = (
    ("storage", re.compile(r"storage|token.?hours?\b|gibibyte|\bgib\b|\bgb.?(hours?|months?)\b", re.I)),
    ("fine_tuning", re.compile(r"fine.?tun|\btraining\b", re.I)),
    ("file_search", re.compile(r"file.?search|vector.?store|retrieval", re.I)),
    ("web_search", re.compile(r"web.?search|search.?(tool|quer|request)|grounding", re.I)),
    ("code_execution", re.compile(r"code.?interpreter|code.?execution|container", re.I)),
    ("images", re.compile(r"\bimages?\b|dall.?e|image.?(generation|models?)", re.I)),
)
_TOKEN_WORD = re.compile(r"tokens?\b", re.I)
_TOKEN_UNIT = re.compile(r"^\s*(?P<n>\d+(\.\d+)?)?\s*(?P<mult>k|m|thousand|million)?\s*tokens?\s*$", re.I)
_MULT = {"k": 1000, "thousand": 1000, "m": 1_000_000, "million": 1_000_000}


def non_token_kind(*texts: str) -> str | None:
    """The non-token kind the texts name (web_search, storage...), or None when they name none."""
    joined = " ".join(t for t in texts if t)
    for kind, pattern in _NON_TOKEN:
        if pattern.search(joined):
            return kind
    return None


def token_type_from_text(*texts: str) -> str:
    """input, cached_input, cache_write_5m/1h or output from words such as 'Cache read input tokens'."""
    low = " ".join(t for t in texts if t).lower()
    if re.search(r"cache.?(write|creation)|cache_creation", low):
        return "cache_write_1h" if re.search(r"\b1\s*h(ou)?r?\b|1h|ephemeral_1h", low) else "cache_write_5m"
    if re.search(r"cache.?read|cached", low):
        return "cached_input"
    if re.search(r"\boutput|completion", low):
        return "output"
    if re.search(r"\binput|prompt", low):
        return "input"
    return ""


def tokens_in(quantity: Decimal | None, unit: str) -> int:
    """Tokens a quantity counts when its unit is a token count ('Tokens', '1K Tokens', '1000_tokens'); else 0."""
    if quantity is None:
        return 0
    match = _TOKEN_UNIT.match(unit.replace("_", " "))
    if not match:
        return 0
    try:
        factor = Decimal(match.group("n") or 1) * _MULT.get((match.group("mult") or "").lower(), 1)
        return int((quantity * factor).to_integral_value())
    except (InvalidOperation, ValueError):
        return 0


def says_tokens(*texts: str) -> bool:
    """True when the texts speak of tokens (and not of token storage)."""
    joined = " ".join(t for t in texts if t)
    return bool(_TOKEN_WORD.search(joined)) and not _NON_TOKEN[0][1].search(joined)

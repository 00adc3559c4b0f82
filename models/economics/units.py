"""Unit conversions used across the economics engine.

Every price inside hybridcost is USD per 1,000,000 tokens (``*_per_mtok``) and every
duration-scaled figure uses a 730-hour month. Going through these helpers, rather than
writing ``* 1e6`` or ``/ 730`` inline, is what keeps a 1000x (per-token vs per-Mtok) or
730x (monthly vs hourly) slip out of the code.
"""

from __future__ import annotations

TOKENS_PER_MTOK = 1_000_000
HOURS_PER_MONTH = 730
HOURS_PER_WEEK = 168
SECONDS_PER_HOUR = 3600


def usd_per_token_to_usd_per_mtok(usd_per_token: float) -> float:
    """Convert a per-token price (LiteLLM style, 2.5e-06) to USD per million tokens (2.50)."""
    return usd_per_token * TOKENS_PER_MTOK


def usd_per_mtok_to_usd_per_token(usd_per_mtok: float) -> float:
    """Convert USD per million tokens (2.50) to a per-token price (2.5e-06)."""
    return usd_per_mtok / TOKENS_PER_MTOK


def tokens_to_mtok(tokens: float) -> float:
    """Express a token count in millions of tokens."""
    return tokens / TOKENS_PER_MTOK


def cost_of_tokens(tokens: float, usd_per_mtok: float) -> float:
    """USD cost of ``tokens`` tokens at a price of ``usd_per_mtok`` per million tokens."""
    return tokens * usd_per_mtok / TOKENS_PER_MTOK


def monthly_to_hourly(usd_per_month: float) -> float:
    """Spread a monthly amount over the 730 hours of a month."""
    return usd_per_month / HOURS_PER_MONTH


def hourly_to_monthly(usd_per_hour: float) -> float:
    """Scale an hourly amount to a 730-hour month."""
    return usd_per_hour * HOURS_PER_MONTH


def total_to_monthly(total: float, hours: int) -> float:
    """Scale a total over ``hours`` hours to a 730-hour month (0 when there are no hours)."""
    return total * HOURS_PER_MONTH / hours if hours else 0.0


def weekly_to_monthly(per_week: float) -> float:
    """Scale a weekly volume to a 730-hour month."""
    return per_week * HOURS_PER_MONTH / HOURS_PER_WEEK

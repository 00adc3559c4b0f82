"""The flip points of contract v2 (rule 7) in words and as chart rows.

``flips`` maps each multiplier (``throughput``, ``api_prices``, ``gpu_cost``, ``demand``) to the
grid point nearest 1 at which the plan's class changes, or None when no point from 1/16x to 16x
changes it. A multiplier below 1 is a fall (throughput at 61 % of the plan's), above 1 a rise.
"""

from __future__ import annotations

import math
from typing import Mapping

FLIP_ORDER = ("throughput", "api_prices", "gpu_cost", "demand")
CLASS_WORDS = {"tokens": "tokens", "hybrid": "a hybrid", "move": "a full move to GPUs"}
KIND_WORDS = {"throughput": "throughput", "api_prices": "API prices", "gpu_cost": "GPU costs", "demand": "demand"}
KIND_LABELS = {"throughput": "Throughput", "api_prices": "API prices", "gpu_cost": "GPU costs", "demand": "Demand"}
GRID_LOW, GRID_HIGH = 1 / 16, 16.0


def _percent(x: float) -> str:
    return f"{round(x * 100):,.0f} %"


def flip_condition(kind: str, multiplier: float) -> str:
    """The change one flip point stands for, in words ("API prices fall 31 %")."""
    if kind == "throughput":
        if multiplier < 1:
            return f"throughput falls below {_percent(multiplier)} of what the plan assumes"
        return f"throughput rises above {_percent(multiplier)} of what the plan assumes"
    noun = KIND_WORDS[kind]
    plural = kind != "demand"
    if multiplier < 1:
        return f"{noun} {'fall' if plural else 'falls'} {_percent(1 - multiplier)}"
    if multiplier >= 2:
        return f"{noun} {'rise' if plural else 'grows'} to {multiplier:.1f}x"
    return f"{noun} {'rise' if plural else 'grows'} {_percent(multiplier - 1)}"


def flip_rows(flips: Mapping[str, float | None], flip_to: Mapping[str, str | None] | None = None
              ) -> list[dict]:
    """One row per multiplier, the most sensitive first (nearest 1), with no-flip rows last."""
    rows = []
    for kind in FLIP_ORDER:
        m = flips.get(kind)
        rows.append({"kind": kind, "label": KIND_LABELS[kind], "multiplier": m,
                     "to": (flip_to or {}).get(kind),
                     "condition": None if m is None else flip_condition(kind, m)})
    return sorted(rows, key=lambda r: (r["multiplier"] is None,
                                       abs(math.log(r["multiplier"])) if r["multiplier"] else 0.0))


def flip_sentence(flips: Mapping[str, float | None], plan_class: str,
                  flip_to: Mapping[str, str | None] | None = None) -> str:
    """The flips as one sentence: "This answer flips to tokens if throughput falls below 61 % ..., or ..."."""
    rows = flip_rows(flips, flip_to)
    hits = [r for r in rows if r["multiplier"] is not None]
    steady = [KIND_WORDS[r["kind"]] for r in rows if r["multiplier"] is None]
    if not hits:
        return (f"This answer ({plan_class}) holds for any one of throughput, API prices, GPU costs or demand "
                "changed alone anywhere from 1/16x to 16x.")
    groups: dict[str | None, list[str]] = {}
    for row in hits:
        groups.setdefault(row["to"], []).append(row["condition"])
    parts = []
    for to, conditions in groups.items():
        target = f"flips to {CLASS_WORDS.get(to, to)}" if to else "changes"
        parts.append(f"{target} if " + ", or ".join(conditions))
    text = "This answer " + "; it ".join(parts)
    if steady:
        text += f" (no change in {_join(steady)} alone flips it within 1/16x to 16x)"
    return text + "."


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]

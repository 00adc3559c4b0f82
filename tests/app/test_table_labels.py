"""Every table on every page names each column for people: a label from its column config, with units."""

import json
import re

from app.ui import warm
from tests.app.conftest import assert_clean, open_page

PAGES = ["overview", "spend", "workloads", "breakeven", "fleet", "whatif", "workflow", "reports", "data"]
# Words a raw name turns into when nobody named the column (gpu_hours -> "Gpu hours").
RAW_WORDS = re.compile(r"\b(Gpu|Gpus|gpu|gpus|Usd|usd|Sm|sm|Api|api|Mig|frac|pct|mtok|Id)\b")


def test_every_table_column_has_a_human_label(demo_env):
    warm.default_views()  # the pages open from warm caches, so this costs their layout only
    problems = []
    for page in PAGES:
        at = open_page(page, date_range=None)
        assert_clean(at)
        for i, table in enumerate(at.dataframe):
            labels = {name: (cfg or {}).get("label") for name, cfg in json.loads(table.proto.columns or "{}").items()}
            for column in table.value.columns:
                label = labels.get(column)
                if not label:
                    problems.append(f"{page} table {i}: {column!r} has no label")
                elif "_" in label or RAW_WORDS.search(label):
                    problems.append(f"{page} table {i}: {column!r} is labelled {label!r}")
    assert problems == [], "\n".join(problems)

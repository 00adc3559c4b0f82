"""Every page with the planning figures opens for every demo workload at every kind of range the picker offers."""

from __future__ import annotations

from datetime import date

import pytest

from tests.app.conftest import assert_clean, open_page

WORKLOADS = ["segment-labeling", "support-assistant", "code-review", "doc-summaries"]
RANGES = {
    "90 days (the range that asked numpy for 1.43 TiB)": (date(2026, 8, 22), date(2026, 11, 20)),
    "the whole demo and a day before it": (date(2026, 7, 22), date(2026, 11, 20)),
    "today only (12 hours so far)": (date(2026, 11, 20), date(2026, 11, 20)),
    "before any data": (date(2025, 1, 1), date(2025, 1, 31)),
    "in the future": (date(2026, 11, 21), date(2026, 12, 31)),
}
PAGES = {"workloads": "workloads_workload", "breakeven": "breakeven_workload", "whatif": "whatif_workload"}


@pytest.mark.slow
@pytest.mark.parametrize("label", list(RANGES))
def test_plan_pages_open_without_an_error_box(demo_env, label):
    for page, key in PAGES.items():
        at = open_page(page, date_range=RANGES[label], **{key: WORKLOADS[0]})
        assert_clean(at)
        for workload in WORKLOADS[1:]:
            at.selectbox(key=key).set_value(workload).run()
            assert_clean(at)
    assert_clean(open_page("fleet", date_range=RANGES[label]))


@pytest.mark.slow
def test_whatif_extreme_controls_answer_in_one_line(demo_env):
    at = open_page("whatif", date_range=RANGES["90 days (the range that asked numpy for 1.43 TiB)"],
                   whatif_workload="segment-labeling")
    assert_clean(at)
    at.number_input(key="whatif_tps_out_segment-labeling").set_value(1.0)
    at.number_input(key="whatif_tps_in_segment-labeling").set_value(1.0)
    at.number_input(key="whatif_growth").set_value(500.0)
    at.number_input(key="whatif_months_ahead").set_value(36)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    shown = [w.value for w in at.warning] + [e.value for e in at.error]
    assert any("1,000x" in s for s in shown)  # the growth cap says so
    at.number_input(key="whatif_gpu_count_segment-labeling").set_value(100_000)
    at.run()
    assert not at.exception

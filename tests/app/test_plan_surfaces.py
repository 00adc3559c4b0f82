"""One answer per workload: every surface shows the planning path's figures for the same period.

For each demo workload and two built here (one output-heavy, one served on its own vLLM server),
the Workloads page, Breakeven, What-if's starting point, GPU fleet, `simulate --workload --json`,
`plan show --json`, `fleet`, the exporter and the weekly report are compared with
`models.planning.plan_workload` on the same hours.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest
from typer.testing import CliRunner

from app.cli import context
from app.cli.main import app
from app.exporter import HybridcostCollector
from app.ui.format import tokens, usd
from models.infra.database import make_engine
from models.planning import default_period, plan_workload, precomputed
from models.reports.data import parse_week, weekly_report
from models.reports.economics import planning_period as report_period
from tests.app.conftest import assert_clean, metrics, open_page, texts
from tests.planning.plan_seed import LOCAL, OUTPUT_HEAVY, add_local_serving, add_output_heavy
from tests_support import DEMO_NOW

DEMO_WORKLOADS = ["code-review", "doc-summaries", "segment-labeling", "support-assistant"]
WORKLOADS = DEMO_WORKLOADS + [OUTPUT_HEAVY, LOCAL]
KEYS = ["candidate", "marker", "hours", "action", "optimal_replicas", "peak_replicas", "api_only_usd_month",
        "api_billed_usd_month", "local_priced_usd_month", "hybrid_usd_month", "gpu_only_usd_month",
        "breakeven_monthly_tokens", "first_replica_pays"]
REPORT_WEEK = "2026-W46"


@pytest.fixture
def planned(demo_env):
    """The demo plus the two built workloads; the planning path's figures for the default and the report period."""
    engine = make_engine(demo_env)
    add_output_heavy(engine)
    add_local_serving(engine)
    week = parse_week(REPORT_WEEK)
    periods = {"default": default_period(DEMO_NOW), "report": report_period(week.until)}
    with engine.connect() as conn:
        figures = {(name, w): plan_workload(conn, w, *period, now=DEMO_NOW)
                   for name, period in periods.items() for w in WORKLOADS}
    yield engine, figures
    engine.dispose()


def _cli(*args: str):
    context.reset()
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


def test_plan_surfaces_cli_report_exporter_agree(planned):
    engine, figures = planned
    assert {figures["default", w].status for w in WORKLOADS} == {"assessed"}
    # The two built workloads exercise what the demo alone would not.
    local = figures["default", LOCAL]
    assert local.local_priced_usd > 0 and local.measured is not None and local.measured.gap is not None
    heavy = figures["default", OUTPUT_HEAVY].frame
    assert heavy["api_output_tokens"].sum() > 5 * heavy["api_input_tokens"].sum()
    for w in WORKLOADS:
        want = figures["default", w].key_figures()
        got = json.loads(_cli("simulate", "--workload", w, "--json").stdout)
        assert {k: got[k] for k in KEYS} == {k: want[k] for k in KEYS}, w
        assert got["optimal_replicas"] == got["contract"]["optimal_replicas"]  # the contract keys are the plan's
        shown = json.loads(_cli("plan", "show", w, "--json").stdout)[0]
        assert {k: shown[k] for k in KEYS} == {k: want[k] for k in KEYS}, w
        # The report period's dates through the CLI give the report period's figures.
        since, until = report_period(parse_week(REPORT_WEEK).until)
        got = json.loads(_cli("simulate", "--workload", w, "--since", f"{since:%Y-%m-%d}",
                              "--until", f"{until - timedelta(days=1):%Y-%m-%d}", "--json").stdout)
        assert {k: got[k] for k in KEYS} == {k: figures["report", w].key_figures()[k] for k in KEYS}, w

    with engine.connect() as conn:
        rep = weekly_report(conn, parse_week(REPORT_WEEK), now=DEMO_NOW)
    rows = {r["workload"]: r for r in rep.recommendations.iter_rows(named=True)}
    for w in WORKLOADS:
        f = figures["report", w]
        row, want = rows[w], f.key_figures()
        assert row["action"] == want["action"] and row["replicas"] == want["optimal_replicas"], w
        assert row["api_usd_month"] == want["api_only_usd_month"], w
        assert row["api_billed_usd_month"] == want["api_billed_usd_month"], w
        assert row["local_priced_usd_month"] == want["local_priced_usd_month"], w
        assert row["hybrid_usd_month"] == want["hybrid_usd_month"], w
        assert row["move_date"] == want["first_replica_pays"], w
        assert row["option"] == f"{want['candidate']} ({want['marker']})", w
        expected_breakeven = want["breakeven_monthly_tokens"]
        assert row["breakeven_monthly_tokens"] == (None if expected_breakeven is None else int(expected_breakeven))

    assert precomputed.refresh(engine, DEMO_NOW) == len(WORKLOADS)
    values = {(s.name, tuple(sorted(s.labels.items()))): s.value
              for fam in HybridcostCollector(engine, clock=lambda: DEMO_NOW).collect() for s in fam.samples}
    for w in WORKLOADS:
        f = figures["default", w]
        want = f.key_figures()
        label = f"{want['candidate']} ({want['marker']})"
        assert values[("hybridcost_plan_replicas", (("candidate", label), ("workload", w)))] == want["optimal_replicas"]
        assert values[("hybridcost_breakeven_status", (("workload", w),))] == (1.0 if want["optimal_replicas"] else 0.0)
        assert values[("hybridcost_plan_usd_per_month", (("plan", "api_only"), ("workload", w)))] == pytest.approx(
            want["api_only_usd_month"], rel=1e-12)
        assert values[("hybridcost_plan_usd_per_month", (("plan", "hybrid"), ("workload", w)))] == pytest.approx(
            want["hybrid_usd_month"], rel=1e-12)
        move = f.move.move_date(f.until.date())
        key = ("hybridcost_move_date_days", (("workload", w),))
        assert (values.get(key) == float((move - DEMO_NOW.date()).days)) if move else key not in values, w
        if f.measured is not None and f.measured.gap is not None:
            assert values[("hybridcost_throughput_gap_ratio", (("workload", w),))] == pytest.approx(f.measured.gap)

    fleet_text = _cli("fleet").stdout
    for w in ("segment-labeling", LOCAL):  # the workloads served on their own GPUs
        want = figures["default", w].key_figures()
        line = next(x for x in fleet_text.splitlines() if x.startswith(f"plan {w}:"))
        assert f"{want['candidate']} ({want['marker']})" in line and f"plan: {want['action']}" in line


def _page_figures(at, f) -> None:
    """The Workloads / Breakeven metrics equal the planning path's, as the page formats them."""
    shown, want = metrics(at), f.key_figures()
    assert shown["On tokens alone"] == usd(want["api_only_usd_month"]) + "/mo"
    assert shown["Best plan"] == usd(want["hybrid_usd_month"]) + "/mo"
    assert shown["Optimal replicas"] == f"{want['optimal_replicas']:,} of peak {want['peak_replicas']:,}"
    breakeven = want["breakeven_monthly_tokens"]
    assert shown["Breakeven volume"] == ("never" if breakeven is None else tokens(breakeven) + "/mo")
    # The metric shows the headline ('never', the week); its help carries the planning path's full words.
    assert shown["First replica pays"] == f.move.first_replica_headline
    assert want["first_replica_pays"].startswith(shown["First replica pays"]) or shown["First replica pays"] in (
        "never", "out of range", "no forecast")
    assert want["first_replica_pays"] in next(m.proto.help for m in at.metric if m.proto.label == "First replica pays")
    assert want["candidate"] in texts(at) and want["marker"] in texts(at)


def test_plan_surfaces_pages_agree(planned):
    _, figures = planned
    at = open_page("workloads", date_range=None, workloads_workload=WORKLOADS[0])
    for w in WORKLOADS:
        at.selectbox(key="workloads_workload").set_value(w).run()
        assert_clean(at)
        f = figures["default", w]
        _page_figures(at, f)
        shown = metrics(at)
        assert shown["API bill"] == usd(f.monthly(f.api_billed_usd)) + "/mo"
        assert shown["Local tokens priced as the API"] == usd(f.monthly(f.local_priced_usd)) + "/mo"
    at = open_page("breakeven", date_range=None, breakeven_workload=WORKLOADS[0])
    for w in WORKLOADS:
        at.selectbox(key="breakeven_workload").set_value(w).run()
        assert_clean(at)
        _page_figures(at, figures["default", w])
        assert metrics(at)["Today's volume"] == tokens(figures["default", w].monthly_tokens) + "/mo"
    at = open_page("whatif", date_range=None, whatif_workload=WORKLOADS[0])
    for w in WORKLOADS:
        at.selectbox(key="whatif_workload").set_value(w).run()
        assert_clean(at)
        f = figures["default", w]
        want, shown = f.key_figures(), metrics(at)
        # the contract's API-only: under v2 the deferrable share is priced through the batch API
        assert shown["API only (USD/month)"] == usd(f.monthly(f.result.api_only_cost), cents=False), w
        if not f.runs_v2:
            assert shown["API only (USD/month)"] == usd(want["api_only_usd_month"], cents=False), w
        assert shown["Best hybrid (USD/month)"] == usd(want["hybrid_usd_month"], cents=False), w
        assert want["candidate"] in texts(at)
    at = open_page("fleet", date_range=None)
    assert_clean(at)
    table = next(d.value for d in at.dataframe if "plan_replicas" in d.value.columns)
    plans = {r["workload"]: r for r in table.to_dict("records")}
    for w in ("segment-labeling", LOCAL):
        assert plans[w]["plan_replicas"] == figures["default", w].key_figures()["optimal_replicas"]


def test_breakeven_and_whatif_curves_run_the_plans_contract(planned):
    """The Breakeven and What-if curves at today's volume are the plan's own figures, under v1 or v2 alike."""
    from app.ui import economics

    _, figures = planned
    for w in WORKLOADS:
        f = figures["default", w]
        if f.result is None:
            continue
        today = f.curve(1.99).row(100, named=True)  # 200 points from 0 to 1.99x: point 100 is today's volume
        assert today["monthly_tokens"] == pytest.approx(f.monthly_tokens, rel=1e-9), w
        assert today["api_only_usd"] == pytest.approx(f.monthly(f.result.api_only_cost), rel=1e-9), w
        assert today["hybrid_usd"] == pytest.approx(f.monthly(f.result.hybrid_cost), rel=1e-9), w
        assert today["hybrid_replicas"] == f.result.optimal_replicas, w
        page = economics.curve(w, f.since, f.until, DEMO_NOW)
        assert page.equals(f.curve()), w
        # What-if at its starting controls draws the same curve as Breakeven.
        start = economics.whatif_start(w, f.since, f.until, DEMO_NOW).as_dict()
        whatif = economics.whatif_curve(w, f.since, f.until, DEMO_NOW, f.candidate.gpu.model_dump(), 1.0, 1.0,
                                        v2=start)
        assert whatif.equals(page), w
    assert any(figures["default", w].runs_v2 for w in WORKLOADS)


def test_plan_periods_are_the_same_hours_everywhere():
    """The pages' default range, the CLI's default window and the exporter's period are one period."""
    from app.cli.dates import utc_window
    from models import clock
    from models.planning import planning_period

    with clock.pinned(DEMO_NOW):
        cli = planning_period(*utc_window(None, None), DEMO_NOW)
        page = planning_period(*clock.day_range(date(2026, 10, 22), date(2026, 11, 20)), DEMO_NOW)
    assert cli == page == default_period(DEMO_NOW)
    assert default_period(DEMO_NOW) == (datetime(2026, 10, 22, tzinfo=timezone.utc), DEMO_NOW)

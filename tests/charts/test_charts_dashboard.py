"""Chart functions as plain functions: trace counts, names, titles and axis titles with units."""

from datetime import date, datetime, timedelta, timezone

import polars as pl

from app.charts.breakeven import breakeven_chart, forecast_chart
from app.charts.fleet import idle_cost_by_gpu, queue_and_kv, utilization_heatmap
from app.charts.spend import month_comparison, reconciliation_bars, share_lines, token_vs_gpu
from app.charts.whatif import levers_waterfall, scenario_comparison
from app.charts.workloads import hourly_heatmap, token_mix, weekly_volume

H0 = datetime(2026, 11, 2, tzinfo=timezone.utc)


def _axes(fig):
    return fig.layout.xaxis.title.text, fig.layout.yaxis.title.text


def test_month_comparison_has_three_bar_series_in_usd():
    months = pl.DataFrame({"provider": ["openai", "anthropic"], "this_month_usd": [10.0, 5.0],
                           "last_month_usd": [30.0, 9.0], "last_month_to_date_usd": [12.0, 4.0]})
    fig = month_comparison(months)
    assert [t.name for t in fig.data] == ["Last month (whole)", "Last month, same days", "This month to date"]
    assert _axes(fig) == ("Provider", "Spend (USD)") and fig.layout.title.text


def test_token_vs_gpu_stacks_two_kinds():
    frame = pl.DataFrame({"day": [date(2026, 11, 1)] * 2, "kind": ["token APIs", "GPUs"], "cost_usd": [3.0, 4.0]})
    fig = token_vs_gpu(frame)
    assert [t.name for t in fig.data] == ["token APIs", "GPUs"] and fig.layout.barmode == "stack"
    assert _axes(fig) == ("Day (UTC)", "Spend (USD)")


def test_share_lines_are_percent():
    fig = share_lines(pl.DataFrame({"day": [date(2026, 11, 1)], "cached_share": [0.25], "batch_share": [0.1]}))
    assert len(fig.data) == 2 and list(fig.data[0].y) == [25.0]
    assert _axes(fig) == ("Day (UTC)", "Share of tokens (%)")


def test_reconciliation_bars_one_series_per_basis():
    long = pl.DataFrame({"provider": ["openai"] * 2, "month": [date(2026, 10, 1)] * 2,
                         "basis": ["cost_api", "usage_price"], "amount_usd": [100.0, 101.0]})
    fig = reconciliation_bars(long)
    assert sorted(t.name for t in fig.data) == ["cost_api", "usage_price"]
    assert fig.layout.yaxis.title.text == "Total (USD)"


def test_workload_charts():
    shape = pl.DataFrame({"weekday": [0, 6], "hour_of_day": [9, 23], "tokens": [100.0, 5.0]})
    heat = hourly_heatmap(shape)
    assert len(heat.data) == 1 and heat.data[0].z[0][9] == 100.0
    assert _axes(heat) == ("Hour of day (UTC)", "Weekday")
    weekly = pl.DataFrame({"week_start": [H0, H0 + timedelta(weeks=1)], "tokens": [100, 120], "growth_pct": [None, 20.0]})
    fig = weekly_volume(weekly)
    assert [t.name for t in fig.data] == ["Tokens per week", "Growth vs week before (%)"]
    assert fig.layout.yaxis2.title.text == "Growth (%)"
    mix = token_mix(pl.DataFrame({"kind": ["input (uncached)", "reasoning"], "tokens": [10, 5]}))
    assert list(mix.data[0].labels) == ["input (uncached)", "reasoning"]


def test_breakeven_chart_lines_and_markers():
    curve = pl.DataFrame({"monthly_tokens": [0.0, 1e9, 2e9], "api_only_usd": [0.0, 1000.0, 2000.0],
                          "gpu_only_usd": [0.0, 2300.0, 2300.0], "hybrid_usd": [0.0, 1000.0, 1900.0],
                          "hybrid_replicas": [0, 0, 1]})
    fig = breakeven_chart(curve, today_tokens=1e9, forecast_tokens=1.5e9, forecast_low=1.2e9, forecast_high=1.8e9,
                          breakeven_tokens=1.6e9)
    assert [t.name for t in fig.data][:3] == ["API only", "GPU only (whole replicas)", "Best hybrid"]
    assert fig.data[1].line.shape == "hv"  # the staircase
    assert _axes(fig) == ("Volume (tokens/month)", "Cost (USD/month)")
    assert len(fig.layout.shapes) == 1  # the interval band
    # markers are legend entries with their values, never text on the plot, so close ones cannot overlap
    assert [t.name for t in fig.data][3:] == ["Forecast range 1.2B–1.8B tok/month", "Today: 1.0B tok/month",
                                              "Forecast: 1.5B tok/month", "First replica pays: 1.6B tok/month"]
    assert not fig.layout.annotations


def test_forecast_chart_history_interval_and_line():
    weekly = pl.DataFrame({"week_start": [H0], "tokens": [168_000], "hours": [168]})
    forecast = pl.DataFrame({"week_start": [H0 + timedelta(weeks=1)], "monthly_tokens": [800_000.0],
                             "monthly_tokens_low": [700_000.0], "monthly_tokens_high": [900_000.0]})
    fig = forecast_chart(weekly, forecast)
    assert [t.name for t in fig.data] == ["History", "Forecast interval", "Forecast"]
    assert list(fig.data[0].y) == [730_000.0]  # 168k tokens a week = 1,000/hour = 730k/month
    assert fig.layout.yaxis.title.text == "Volume (tokens/month, log scale)"


def test_fleet_charts():
    gpus = pl.DataFrame({"hour_at": [H0, H0, H0 + timedelta(hours=1)], "gpu": ["n1/GPU-a", "n1/GPU-b", "n1/GPU-a"],
                         "utilization_mean_pct": [50.0, 0.0, 100.0]})
    heat = utilization_heatmap(gpus)
    assert len(heat.data[0].y) == 2 and heat.data[0].zmax == 100
    assert heat.data[0].colorbar.title.text == "% utilization"
    inference = pl.DataFrame({"hour_at": [H0], "requests_waiting_mean": [1.0], "requests_waiting_max": [3.0],
                              "kv_cache_max_frac": [0.5]})
    q = queue_and_kv(inference)
    assert [t.name for t in q.data] == ["Queue depth (mean)", "Queue depth (max)", "KV cache peak (%)"]
    assert list(q.data[2].y) == [50.0] and q.layout.yaxis2.title.text == "KV cache used (%)"
    per_gpu = pl.DataFrame({"host": ["n1"], "gpu_uuid": ["GPU-a"], "cost_usd": [10.0], "idle_cost_usd": [4.0]})
    idle = idle_cost_by_gpu(per_gpu)
    assert [t.name for t in idle.data] == ["Busy cost", "Idle cost"] and list(idle.data[0].y) == [6.0]


def test_waterfall_orders_levers_and_marks_unmeasured():
    steps = pl.DataFrame({"lever": ["today", "cache", "batch", "route", "move", "after levers"],
                          "status": ["total", "ok", "not measurable", "ok", "ok", "total"],
                          "saving_usd_month": [None, 100.0, None, 50.0, 200.0, None],
                          "remaining_usd_month": [1000.0, 900.0, 900.0, 850.0, 650.0, 650.0]})
    fig = levers_waterfall(steps)
    wf = fig.data[0]
    assert list(wf.x) == ["today", "cache", "batch", "route", "move", "after levers"]
    assert list(wf.measure) == ["absolute", "relative", "relative", "relative", "relative", "total"]
    assert list(wf.y)[1:5] == [-100.0, 0.0, -50.0, -200.0] and wf.text[2] == "not measurable"
    assert fig.layout.yaxis.title.text == "Cost (USD/month)"


def test_scenario_comparison_and_empty_states():
    rows = pl.DataFrame({"scenario": ["a"], "api_only_usd_month": [1.0], "gpu_only_usd_month": [2.0],
                         "hybrid_usd_month": [1.0]})
    assert [t.name for t in scenario_comparison(rows).data] == ["API only", "GPU only", "Best hybrid"]
    for fig in (scenario_comparison(rows.head(0)), utilization_heatmap(pl.DataFrame()),
                breakeven_chart(pl.DataFrame())):
        assert len(fig.data) == 0 and fig.layout.annotations

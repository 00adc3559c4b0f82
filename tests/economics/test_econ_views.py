"""Curves, buy vs rent, forecast, levers and catalog on small worked cases."""

import datetime as dt

import numpy as np
import polars as pl
import pytest

from models.economics.buy_vs_rent import MIN_HISTORY_HOURS, buy_vs_rent
from models.economics.catalog import GPU_TYPES, MODEL_THROUGHPUT, gpu_option_from_catalog
from models.economics.contract import ApiPricing, Demand, GpuOption, simulate
from models.economics.curves import CURVE_COLUMNS, breakeven_curve
from models.economics.forecast import fit_trend, move_dates, theil_sen
from models.economics.levers import NOT_MEASURABLE, levers_waterfall

API = ApiPricing(input_per_mtok=2.5, cached_input_per_mtok=1.25, output_per_mtok=10.0)
RENT = GpuOption(pricing="rent", hourly_rate=2.99, ops_per_gpu_month=150,
                 input_tokens_per_s=20000, output_tokens_per_s=2500)


def diurnal(hours=96, scale=5e7):
    t = np.arange(hours)
    inp = (1 + 0.6 * np.sin(2 * np.pi * t / 24)) * scale
    return Demand.from_arrays(inp, inp * 0.3, inp * 0.1)


# --- curves ---------------------------------------------------------------------------

def test_curve_shape_and_envelope():
    d = diurnal()
    curve = breakeven_curve(d, API, RENT, points=50)
    assert curve.columns == CURVE_COLUMNS and curve.height == 50
    assert curve["monthly_tokens"][0] == 0 and curve["hybrid_usd"][0] == 0
    env = np.minimum(curve["api_only_usd"].to_numpy(), curve["gpu_only_usd"].to_numpy())
    assert (curve["hybrid_usd"].to_numpy() <= env + 1e-6).all()
    assert np.all(np.diff(curve["gpu_only_usd"].to_numpy()) >= 0)  # a staircase


def test_curve_point_at_todays_volume_matches_simulate():
    d = diurnal()
    r = simulate(d, API, RENT)
    curve = breakeven_curve(d, API, RENT, points=2, max_multiplier=1.0)
    today = curve.row(1, named=True)
    assert today["api_only_usd"] == pytest.approx(r.monthly(r.api_only_cost))
    assert today["gpu_only_usd"] == pytest.approx(r.monthly(r.gpu_only_cost))
    assert today["hybrid_usd"] == pytest.approx(r.monthly(r.hybrid_cost))
    assert today["hybrid_replicas"] == r.optimal_replicas


# --- buy vs rent ----------------------------------------------------------------------

BUY = gpu_option_from_catalog("H100", "Llama 3.1 8B FP8", 1, "buy")
RENT_H100 = gpu_option_from_catalog("H100", "Llama 3.1 8B FP8", 1, "rent")


def test_buy_vs_rent_refuses_short_history():
    r = buy_vs_rent(diurnal(MIN_HISTORY_HOURS - 1), API, BUY, RENT_H100)
    assert r.status == "insufficient history" and "672" in r.message
    assert r.payback_vs_tokens_months is None


def test_buy_vs_rent_payback_by_hand():
    d = diurnal(MIN_HISTORY_HOURS, scale=5e7)
    r = buy_vs_rent(d, API, BUY, RENT_H100, migration_cost_usd=10_000, residual_value_fraction=0.25,
                    self_hosted_model="Llama 3.1 8B FP8", term_months=36)
    assert r.status == "ok" and r.replicas >= 1
    upfront = r.gpus * 30_000 + 10_000
    assert r.payback_vs_tokens_months == pytest.approx(upfront / (r.tokens_monthly_usd - r.buy_running_monthly_usd))
    assert r.payback_vs_rent_months == pytest.approx(r.gpus * 30_000 / (r.rent_monthly_usd - r.buy_running_monthly_usd))
    assert r.residual_value_usd == pytest.approx(0.25 * r.gpus * 30_000)
    assert r.term_cost_buy_usd == pytest.approx(upfront + 36 * r.buy_running_monthly_usd - r.residual_value_usd)


def test_buy_never_pays_when_volume_is_tiny():
    r = buy_vs_rent(diurnal(MIN_HISTORY_HOURS, scale=1e3), API, BUY, RENT_H100)
    assert r.status == "ok" and r.replicas == 0 and r.payback_vs_tokens_months is None


# --- forecast -------------------------------------------------------------------------

def test_theil_sen_ignores_an_outlier():
    x = np.arange(10.0)
    y = 2.0 + 0.5 * x
    y[3] = 100.0
    slope, intercept, _ = theil_sen(x, y)
    assert slope == pytest.approx(0.5) and intercept == pytest.approx(2.0)


def weekly(n, start=1e8, growth=1.10):
    return pl.DataFrame({"week_start": [dt.date(2026, 1, 5) + dt.timedelta(weeks=i) for i in range(n)],
                         "tokens": [start * growth**i for i in range(n)]})


def test_fit_recovers_growth_and_move_dates_are_ordered():
    fit = fit_trend(weekly(12))
    assert fit.weekly_growth == pytest.approx(0.10)
    d = diurnal(scale=2e5)  # far below breakeven today
    m = move_dates(weekly(12, start=2e8 * 168 / 730 / 10), d, API, RENT, horizon_weeks=104)
    assert m.first_replica_week is not None and m.full_move_week is not None
    assert m.first_replica_week <= m.full_move_week
    row = m.forecast.filter(pl.col("week_start") == m.first_replica_week).row(0, named=True)
    assert row["monthly_tokens"] >= m.breakeven_monthly_tokens


def test_shrinking_volume_never_moves_within_horizon():
    m = move_dates(weekly(8, start=1e6, growth=0.9), diurnal(scale=1e3), API, RENT, horizon_weeks=26)
    assert m.first_replica_week is None and m.full_move_week is None


def test_forecast_needs_two_weeks():
    with pytest.raises(ValueError, match="two weeks"):
        fit_trend(weekly(1))


# --- levers ---------------------------------------------------------------------------

def test_levers_apply_in_order_on_what_remains():
    d = diurnal()
    w = levers_waterfall(d, API, RENT, repeat_share=0.2, batchable_share=0.5, route_share=0.5,
                         route_price_ratio=0.2)
    today = simulate(d, API, RENT).monthly(simulate(d, API, RENT).api_only_cost)
    cache, batch, route, move = w.steps
    assert [s.lever for s in w.steps] == ["cache", "batch", "route", "move"]
    assert cache.saving_usd_month == pytest.approx(0.2 * today)
    assert batch.saving_usd_month == pytest.approx(0.8 * today * 0.5 * 0.5)
    assert route.saving_usd_month == pytest.approx(batch.remaining_usd_month * 0.5 * 0.8)
    assert move.remaining_usd_month <= route.remaining_usd_month
    assert all(s.assumption for s in w.steps)
    frame = w.frame()
    assert frame["lever"].to_list()[0] == "today" and frame["lever"].to_list()[-1] == "after levers"
    saved = sum(s.saving_usd_month for s in w.steps)
    assert today - saved == pytest.approx(w.after_usd_month)


def test_unmeasured_lever_saves_nothing_and_says_so():
    w = levers_waterfall(diurnal(), API, None, repeat_share=None, batchable_share=None,
                         route_share=0.3, route_price_ratio=None)
    assert all(s.status == NOT_MEASURABLE and s.saving_usd_month is None for s in w.steps)
    assert w.after_usd_month == pytest.approx(w.today_usd_month)
    assert w.frame()["saving_usd_month"].null_count() == 6


# --- catalog --------------------------------------------------------------------------

def test_catalog_conversion_per_gpu_to_per_replica():
    rows = {(r["model"], r["tensor_parallel"]): r for r in MODEL_THROUGHPUT}
    assert rows[("Llama 3.1 8B FP8", 1)]["output_tokens_per_s"] == 15_220
    big = rows[("Llama 3.3 70B FP8", 2)]
    assert big["output_tokens_per_s"] == 4_205 and big["per_gpu_output_tokens_per_s"] == 2_100
    assert "x TP 2" in big["conversion_note"]
    assert {g["gpu_type"] for g in GPU_TYPES} == {"H100", "H200", "A100 80GB", "L40S", "L4"}


def test_gpu_option_from_catalog_with_overrides():
    g = gpu_option_from_catalog("H100", "Llama 3.3 70B FP8", 2, "buy", pue=1.3, ops_per_gpu_month=500)
    assert g.replica_gpus == 2 and g.purchase_price == 30_000 and g.power_watts == 700
    assert g.output_tokens_per_s == 4_205
    with pytest.raises(KeyError):
        gpu_option_from_catalog("H100", "Llama 3.3 70B FP8", 4)

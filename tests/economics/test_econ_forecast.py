"""How sure we are: Sen's slope interval on complete weeks, its coverage on simulated trends, order-by dates."""

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest

from models.economics.contract import ApiPricing, Demand, GpuOption
from models.economics.forecast import (
    complete_weeks,
    fit_trend,
    forecast_monthly_volume,
    move_dates,
    sen_interval,
    theil_sen,
    weeks_needed,
)
from models.economics.plan import simulate_plan
from models.economics.plan_inputs import PlanInputs, PlanningInputs

START = dt.date(2026, 1, 5)  # a Monday
GROWTH = math.log(1.03)  # +3 % a week


def history(y, start=START, **extra):
    return pl.DataFrame({"week_start": [start + dt.timedelta(weeks=i) for i in range(len(y))],
                         "tokens": np.exp(np.asarray(y, dtype=np.float64)), **extra})


def simulated(rng, n, sigma):
    return 20 + GROWTH * np.arange(n) + rng.normal(0, sigma, n)


def test_interval_by_hand_on_five_weeks():
    y = np.array([0.0, 0.3, 0.1, 0.6, 0.5])
    _, _, slopes = theil_sen(np.arange(5.0), y)
    # N = 10 slopes; Var(S) = 5*4*15/18; C = z_0.9 * sqrt(Var S); ranks (N - C)/2 and (N + C)/2 + 1.
    c = 1.2815515655446004 * math.sqrt(5 * 4 * 15 / 18)
    lo_rank, hi_rank = (10 - c) / 2, (10 + c) / 2 + 1
    s = sorted(slopes)
    want_lo = s[1] + (lo_rank - 2) * (s[2] - s[1])
    want_hi = s[7] + (hi_rank - 8) * (s[8] - s[7])
    assert sen_interval(y, slopes, 0.8) == pytest.approx((want_lo, want_hi))
    assert (lo_rank, hi_rank) == pytest.approx((2.3840, 8.6160), abs=1e-4)


def test_interval_covers_the_true_trend_about_80_percent_of_the_time():
    rng = np.random.default_rng(20261120)
    for n in (12, 26):
        runs = 400
        covered = 0
        for _ in range(runs):
            fit = fit_trend(history(simulated(rng, n, 0.1)))
            covered += fit.slope_low <= GROWTH <= fit.slope_high
        assert 0.74 <= covered / runs <= 0.88, (n, covered / runs)


def test_interval_narrows_as_history_grows():
    rng = np.random.default_rng(7)
    widths = []
    for n in (6, 12, 26, 52):
        fits = [fit_trend(history(simulated(rng, n, 0.1))) for _ in range(100)]
        widths.append(float(np.median([f.slope_high - f.slope_low for f in fits])))
    assert widths == sorted(widths, reverse=True) and widths[3] < widths[1] / 5, widths


def test_move_date_interval_brackets_the_true_week_and_the_latest_is_usually_within_the_horizon():
    """Twelve weeks of a true +3 %/week trend; breakeven at twice today's true volume (24 weeks out)."""
    rng = np.random.default_rng(3)
    runs, covered, never = 200, 0, 0
    true_week = START + dt.timedelta(weeks=11 + math.ceil(math.log(2) / GROWTH))
    target = math.exp(20 + GROWTH * 11) * 2 * 730 / 168
    for _ in range(runs):
        _, frame = forecast_monthly_volume(history(simulated(rng, 12, 0.05)), 52)
        weeks = frame["week_start"].to_list()

        def first(column):
            hit = frame[column].to_numpy() >= target
            return weeks[int(np.argmax(hit))] if hit.any() else None

        early, late = first("monthly_tokens_high"), first("monthly_tokens_low")
        never += late is None
        covered += early is not None and early <= true_week and (late is None or true_week <= late)
    assert 0.72 <= covered / runs <= 0.93 and never / runs < 0.15, (covered / runs, never / runs)


def test_too_short_history_says_so_and_gives_no_interval():
    assert weeks_needed(0.8) == 4
    fit = fit_trend(history([20, 20.1, 20.2]))
    assert fit.slope_low is None and fit.slope_high is None
    assert fit.interval_note == "history too short for the 80 % interval: 3 complete weeks with tokens, 4 needed"
    _, frame = forecast_monthly_volume(history([20, 20.1, 20.2]), 4)
    assert frame["monthly_tokens_low"].null_count() == 4 and frame["monthly_tokens"].null_count() == 0
    assert fit_trend(history([20, 20.1, 20.2, 20.3])).slope_low is not None
    with pytest.raises(ValueError, match="two weeks"):
        fit_trend(history([20]))


def test_only_complete_weeks_are_fitted():
    y = [20, 20.1, 20.2, 20.3, 20.4, 17.0]  # the running week has only a few days so far
    frame = history(y, hours=[168] * 5 + [40])
    assert complete_weeks(frame).height == 5
    assert fit_trend(frame).slope == pytest.approx(0.1)
    window = history([15.0] + y[1:5])  # the first week started before the data did
    kept = complete_weeks(window, since=dt.datetime(2026, 1, 7), until=dt.datetime(2026, 2, 9))
    assert kept["week_start"].to_list() == [START + dt.timedelta(weeks=i) for i in (1, 2, 3, 4)]
    aware = complete_weeks(window, since=dt.datetime(2026, 1, 7, tzinfo=dt.timezone.utc))
    assert aware.height == 4


API = ApiPricing(input_per_mtok=2.5, cached_input_per_mtok=1.25, output_per_mtok=10.0)
RENT = GpuOption(pricing="rent", hourly_rate=2.99, ops_per_gpu_month=150, input_tokens_per_s=20000,
                 output_tokens_per_s=2500)


def diurnal(scale):
    t = np.arange(24 * 14)
    inp = scale * (0.3 + np.exp(-(((t % 24) - 14) / 4.0) ** 2))
    return Demand.from_arrays(inp, inp * 0.4, inp * 0.08, hour=t)


def test_order_by_is_the_first_replica_week_minus_the_lead_time_and_v2_thresholds_are_used():
    demand = diurnal(2e6)
    planning = PlanningInputs(plan=PlanInputs(lead_time_days=56, fixed_monthly=3000, escalation_share=0.1))
    weekly = history(np.log(4e8) + GROWTH * 4 * np.arange(10))  # +12.6 % a week
    dates = move_dates(weekly, demand, API, RENT, horizon_weeks=104, planning=planning)
    v2 = simulate_plan(demand, API, RENT, planning, with_flips=False)
    assert dates.breakeven_monthly_tokens == pytest.approx(v2.breakeven_monthly_tokens)
    assert dates.first_replica_week is not None and dates.lead_time_days == 56
    assert dates.order_by == dates.first_replica_week - dt.timedelta(days=56)
    assert dates.order_by_earliest == dates.first_replica_earliest - dt.timedelta(days=56)
    assert dates.first_replica_earliest <= dates.first_replica_week <= dates.first_replica_latest
    assert dates.weekly_growth_low < dates.weekly_growth < dates.weekly_growth_high
    assert dates.interval_note is None and dates.weeks == 10
    v1 = move_dates(weekly, demand, API, RENT, horizon_weeks=104)
    assert v1.breakeven_monthly_tokens < dates.breakeven_monthly_tokens  # fixed cost and escalation push it out
    assert v1.order_by == v1.first_replica_week


def test_full_move_week_matches_the_breakeven_curve():
    from models.economics.contract import prepare
    from models.economics.curves import costs_at_monthly_tokens
    from models.economics.forecast import _v1_cost_lines

    prep = prepare(diurnal(2e6), API, RENT)
    volume = np.geomspace(1e8, 1e11, 40)
    curve = costs_at_monthly_tokens(prep, volume)
    api_usd, gpu_usd = _v1_cost_lines(prep, volume)
    assert api_usd == pytest.approx(curve["api_only_usd"].to_numpy())
    assert gpu_usd == pytest.approx(curve["gpu_only_usd"].to_numpy())


def test_move_dates_with_too_short_history_keep_the_central_date_and_say_why():
    weekly = history(np.log(4e8) + 0.2 * np.arange(3))
    dates = move_dates(weekly, diurnal(2e6), API, RENT, horizon_weeks=52)
    assert dates.first_replica_week is not None
    assert dates.first_replica_earliest is None and dates.first_replica_latest is None
    assert dates.interval_note.startswith("history too short")

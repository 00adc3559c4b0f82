"""The flip tornado: one bar per input that flips, from 1x to its flip point, the most sensitive on top."""

from app.charts.flips import flips_tornado


def test_bars_run_from_the_plan_to_each_flip_point():
    fig = flips_tornado({"throughput": 0.61, "api_prices": 0.69, "gpu_cost": 1.54, "demand": None}, "hybrid",
                        {"throughput": "tokens", "api_prices": "tokens", "gpu_cost": "tokens"})
    bars = [t for t in fig.data if t.type == "bar"]
    assert len(bars) == 3 and all(b.base[0] == 1.0 for b in bars)
    ends = {b.y[0]: b.base[0] + b.x[0] for b in bars}
    assert ends == {"Throughput": 0.61, "API prices": 0.69, "GPU costs": 1.54}
    assert list(fig.layout.yaxis.categoryarray)[-1] == "API prices"  # the nearest flip is drawn on top
    assert fig.layout.xaxis.type == "log" and "Multiplier" in fig.layout.xaxis.title.text
    assert any("no flip" in a.text for a in fig.layout.annotations)
    assert "→ tokens" in bars[0].text[0]


def test_nothing_flips_still_draws_the_axes():
    fig = flips_tornado(dict.fromkeys(("throughput", "api_prices", "gpu_cost", "demand")), "tokens")
    assert not [t for t in fig.data if t.type == "bar"]
    assert sum("no flip" in a.text for a in fig.layout.annotations) == 4

"""The published-curve and GPU-rate catalogs: the built-in files load and hold their rules; broken rows are refused."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from models.economics import gpu_rates, published_curves
from models.economics.catalog import GPU_TYPES
from models.economics.gpu_rates import TIERS, catalog_rates, parse_rates, rates_for, reference_rate
from models.economics.published_curves import CatalogError, catalog_curves, find_curve, parse_curves
from models.economics.slo_curves import point_at_mix
from tests_support import REPO_ROOT

NIM = {"curve_id": "t", "model": "Model X", "gpu_type": "H100", "gpu_count": "2", "parallelism": "TP2",
       "precision": "fp8", "engine": "engine", "input_tokens": "5000", "output_tokens": "500",
       "latency_statistic": "unstated", "source_name": "a test table", "source_version": "v1",
       "source_url": "https://example.org/t", "read_on": "2026-12-01"}
POINTS = (("1", "406.77", "18.58", "51.67"), ("25", "688.69", "38.75", "623.4"), ("50", "834.51", "59.73", "814.37"))
RATE = {"gpu_type": "H100", "provider": "P", "offer": "o", "tier": "on_demand", "usd_per_gpu_hour": "2.50",
        "gpus_per_instance": "1", "instance_usd_per_hour": "", "region": "", "source_url": "https://example.org/r",
        "read_via": "", "read_on": "2026-11-09", "note": ""}


def _csv(columns, rows) -> list[str]:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().splitlines(keepends=True)


def _curve_rows(points=POINTS, **meta):
    return [{**NIM, **meta, "concurrency": c, "ttft_ms": t, "itl_ms": i, "output_tokens_per_s": o}
            for c, t, i, o in points]


def _raw(path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_the_builtin_curves_keep_every_printed_point_and_its_source():
    raw = _raw(published_curves.BUILTIN_CSV)
    curves = catalog_curves()
    assert sum(len(c.rows) for c in curves) == len(raw)  # nothing added, nothing dropped
    for curve in curves:
        printed = [r for r in raw if r["curve_id"] == curve.curve_id]
        assert [(float(r["concurrency"]), float(r["output_tokens_per_s"])) for r in printed] == \
               [(c, out) for c, _, _, out in curve.rows]
        assert curve.source_url in curve.source and curve.source_name in curve.source
        assert curve.source.startswith("published: ")


def test_a_curve_point_reproduces_the_printed_output_rate_at_the_benchmarks_shape():
    (curve,) = parse_curves(_csv(published_curves.COLUMNS, _curve_rows()), "t.csv")
    for point, (_, _, itl, out) in zip(curve.points, curve.rows, strict=True):
        # W = I / in + O / out: one output token with rho prompt tokens takes 1 / printed seconds of a replica
        rho = curve.input_per_output
        assert 1.0 / (rho / point.input_tokens_per_s + 1.0 / point.output_tokens_per_s) == pytest.approx(out)
        assert point.p95_itl_ms == itl
    assert curve.points[0] == point_at_mix(1.0, 51.67, 10.0, 18.58, 406.77)


@pytest.mark.parametrize("rows, message", [
    (_curve_rows(points=(POINTS[1], POINTS[0])), "concurrency must rise"),
    (_curve_rows(points=(POINTS[0], ("25", "688.69", "0.03875", "623.4"))), "itl_ms: 0.03875 is outside"),
    (_curve_rows(points=(POINTS[0], ("25", "688.69", "38.75", "62340"))), "exceeds concurrency x 1000 / itl_ms"),
    (_curve_rows(points=(POINTS[0], ("25", "-1", "38.75", "623.4"))), "ttft_ms"),
    (_curve_rows(points=(POINTS[0],)), "needs two or more"),
    (_curve_rows(source_url="http://example.org/t"), "https://"),
    (_curve_rows(read_on="Dec 2026"), "YYYY-MM-DD"),
    (_curve_rows(latency_statistic="p42"), "latency_statistic"),
    (_curve_rows(gpu_count="1.5"), "gpu_count"),
    (_curve_rows()[:2] + [{**_curve_rows()[2], "gpu_count": "4"}], "differs from line"),
])
def test_a_broken_curve_row_is_refused_naming_the_line(rows, message):
    with pytest.raises(CatalogError, match=message) as info:
        parse_curves(_csv(published_curves.COLUMNS, rows), "t.csv")
    assert str(info.value).startswith("t.csv")


def test_a_curve_file_without_a_column_is_refused():
    with pytest.raises(CatalogError, match="missing column"):
        parse_curves(_csv([c for c in published_curves.COLUMNS if c != "itl_ms"],
                          [{k: v for k, v in r.items() if k != "itl_ms"} for r in _curve_rows()]), "t.csv")


def test_the_curve_nearest_the_workloads_shape_is_chosen():
    rows = _curve_rows() + _curve_rows(curve_id="short", input_tokens="500", output_tokens="2000")
    long_prompt, short_prompt = parse_curves(_csv(published_curves.COLUMNS, rows), "t.csv")
    curves = (long_prompt, short_prompt)
    assert find_curve(curves, "model x", "h100", 2, input_per_output=6.0) is long_prompt
    assert find_curve(curves, "Model X", "H100", 2, input_per_output=0.5) is short_prompt
    assert find_curve(curves, "Model X", "H100", 2) is long_prompt  # no mix: file order
    assert find_curve(curves, "Model X", "H100", 1) is None
    assert find_curve(curves, "Model X", "H200", 2) is None


def test_a_users_curve_file_is_read_after_the_builtin_one(tmp_path):
    mine = tmp_path / "mine.csv"
    mine.write_text("".join(_csv(published_curves.COLUMNS, _curve_rows(curve_id="mine"))))
    curves = catalog_curves(mine)
    assert curves[:-1] == catalog_curves() and curves[-1].curve_id == "mine"
    clash = tmp_path / "clash.csv"
    clash.write_text("".join(_csv(published_curves.COLUMNS, _curve_rows(curve_id=catalog_curves()[0].curve_id))))
    with pytest.raises(CatalogError, match="already in the built-in catalog"):
        catalog_curves(clash)
    with pytest.raises(CatalogError, match="absent.csv"):
        catalog_curves(tmp_path / "absent.csv")


def test_the_builtin_rates_are_exact_sourced_and_per_gpu():
    raw = _raw(gpu_rates.BUILTIN_CSV)
    rates = catalog_rates()
    assert len(rates) == len(raw)
    known = {g["gpu_type"] for g in GPU_TYPES}
    for rate, row in zip(rates, raw, strict=True):
        assert isinstance(rate.usd_per_gpu_hour, Decimal) and str(rate.usd_per_gpu_hour) == row["usd_per_gpu_hour"]
        assert rate.gpu_type in known and rate.tier in TIERS
        assert rate.source_url.startswith("https://") and rate.source_url in rate.words()
        if rate.instance_usd_per_hour is not None:
            assert abs(rate.instance_usd_per_hour / rate.gpus_per_instance - rate.usd_per_gpu_hour) <= Decimal("0.01")


def test_the_reference_rate_is_a_published_one_from_the_middle():
    rows = [{**RATE, "provider": p, "usd_per_gpu_hour": usd} for p, usd in (("a", "4.00"), ("b", "2.00"), ("c", "3"))]
    three = parse_rates(_csv(gpu_rates.COLUMNS, rows), "r.csv")
    assert reference_rate(three, "h100").provider == "c"
    four = parse_rates(_csv(gpu_rates.COLUMNS, [*rows, {**RATE, "provider": "d", "usd_per_gpu_hour": "9"}]), "r.csv")
    assert reference_rate(four, "H100").provider == "c"  # lower middle: 2, [3], 4, 9
    assert [r.provider for r in rates_for(four, "H100", "on_demand")] == ["b", "c", "a", "d"]
    assert reference_rate(four, "H100", "spot") is None and reference_rate(four, "L4") is None


@pytest.mark.parametrize("change, message", [
    ({"tier": "three_year"}, "tier"),
    ({"usd_per_gpu_hour": "0"}, "above zero"),
    ({"usd_per_gpu_hour": "900"}, "usd_per_gpu_hour"),
    ({"usd_per_gpu_hour": "abc"}, "not a USD amount"),
    ({"gpus_per_instance": "8", "instance_usd_per_hour": "55.04", "usd_per_gpu_hour": "55.04"}, "is not instance"),
    ({"gpu_type": "H1OO"}, "not a catalog GPU type"),
    ({"source_url": "lambda.ai/pricing"}, "https://"),
    ({"read_on": "2026-13-01"}, "YYYY-MM-DD"),
])
def test_a_broken_rate_row_is_refused_naming_the_line(change, message):
    with pytest.raises(CatalogError, match=message) as info:
        parse_rates(_csv(gpu_rates.COLUMNS, [{**RATE, **change}]), "r.csv", known_gpu_types=("H100",))
    assert str(info.value).startswith("r.csv:2")


def test_the_same_offer_twice_is_refused():
    with pytest.raises(CatalogError, match="same offer as line 2"):
        parse_rates(_csv(gpu_rates.COLUMNS, [RATE, {**RATE, "usd_per_gpu_hour": "2.60"}]), "r.csv")


def test_a_users_rate_file_may_add_its_own_gpu_types(tmp_path):
    mine = tmp_path / "rates.csv"
    mine.write_text("".join(_csv(gpu_rates.COLUMNS, [{**RATE, "gpu_type": "MI300X", "usd_per_gpu_hour": "2.10"}])))
    rates = catalog_rates(mine)
    assert rates[:-1] == catalog_rates()
    assert reference_rate(rates, "mi300x").usd_per_gpu_hour == Decimal("2.10")


def test_every_source_of_either_catalog_is_listed_in_the_docs():
    docs = (REPO_ROOT / "docs" / "economics.md").read_text()
    addresses = {c.source_url for c in catalog_curves()}
    addresses |= {a for r in catalog_rates() for a in (r.source_url, r.read_via) if a}
    missing = sorted(a for a in addresses if a not in docs)
    assert not missing, f"docs/economics.md ('Published sources') lacks {missing}"
    for rate in catalog_rates():
        assert f"| {rate.usd_per_gpu_hour}" in docs, rate.words()

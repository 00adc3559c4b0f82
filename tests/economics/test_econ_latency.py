"""histogram_quantile follows PromQL's interpolation rules."""

import math

import pytest

from models.economics.latency import histogram_quantile

INF = math.inf


def test_linear_inside_the_bucket_the_rank_falls_in():
    # 100 observations: 50 <= 0.1 s, 100 <= 0.2 s; rank 95 is 45/50 of the way through (0.1, 0.2]
    assert histogram_quantile(0.95, [0.1, 0.2, INF], [50, 100, 100]) == pytest.approx(0.19)
    assert histogram_quantile(0.5, [0.1, 0.2, INF], [50, 100, 100]) == pytest.approx(0.1)


def test_the_first_bucket_starts_at_zero_unless_its_bound_is_not_positive():
    assert histogram_quantile(0.5, [0.2, INF], [10, 10]) == pytest.approx(0.1)
    assert histogram_quantile(0.5, [-1.0, 0.5, INF], [10, 20, 20]) == -1.0


def test_a_rank_in_the_inf_bucket_answers_the_highest_finite_bound():
    assert histogram_quantile(0.99, [0.1, 0.2, INF], [50, 90, 100]) == 0.2


def test_no_answer_without_inf_with_one_bucket_or_no_observations():
    assert histogram_quantile(0.95, [0.1, 0.2], [5, 10]) is None
    assert histogram_quantile(0.95, [INF], [10]) is None
    assert histogram_quantile(0.95, [0.1, INF], [0, 0]) is None


def test_unsorted_input_and_float_noise_dips_are_handled_like_promql():
    # sorted by bound first; a dip (0.2 holds less than 0.1) is lifted to the running maximum
    assert histogram_quantile(0.95, [INF, 0.2, 0.1], [100, 49.999, 50]) == pytest.approx(0.2)
    with pytest.raises(ValueError):
        histogram_quantile(1.5, [0.1, INF], [1, 1])


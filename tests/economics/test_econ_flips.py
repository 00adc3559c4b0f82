"""The flip points in words: the issue's example sentence, directions, grouping and the no-flip case."""

from models.economics.flips import flip_condition, flip_rows, flip_sentence


def test_the_issue_sentence():
    flips = {"throughput": 0.61, "api_prices": 0.70, "gpu_cost": None, "demand": None}
    text = flip_sentence(flips, "hybrid", {"throughput": "tokens", "api_prices": "tokens"})
    assert text.startswith("This answer flips to tokens if API prices fall 30 %, or throughput falls below 61 % "
                           "of what the plan assumes")
    assert "(no change in GPU costs or demand alone flips it within 1/16x to 16x)" in text


def test_directions_and_sizes():
    assert flip_condition("throughput", 1.54) == "throughput rises above 154 % of what the plan assumes"
    assert flip_condition("gpu_cost", 1.54) == "GPU costs rise 54 %"
    assert flip_condition("gpu_cost", 0.8) == "GPU costs fall 20 %"
    assert flip_condition("demand", 2 ** (-21 / 24)) == "demand falls 45 %"
    assert flip_condition("demand", 3.2) == "demand grows to 3.2x"
    assert flip_condition("api_prices", 2 ** (-13 / 24)) == "API prices fall 31 %"


def test_most_sensitive_first_and_groups_by_the_class_it_flips_to():
    flips = {"throughput": 0.5, "api_prices": 0.9, "gpu_cost": 1.2, "demand": None}
    rows = flip_rows(flips)
    assert [r["kind"] for r in rows] == ["api_prices", "gpu_cost", "throughput", "demand"]
    text = flip_sentence(flips, "hybrid", {"throughput": "tokens", "api_prices": "tokens", "gpu_cost": "move"})
    assert "flips to tokens if API prices fall 10 %, or throughput falls below 50 %" in text
    assert "; it flips to a full move to GPUs if GPU costs rise 20 %" in text


def test_nothing_flips():
    text = flip_sentence(dict.fromkeys(("throughput", "api_prices", "gpu_cost", "demand")), "tokens")
    assert text == ("This answer (tokens) holds for any one of throughput, API prices, GPU costs or demand changed "
                    "alone anywhere from 1/16x to 16x.")


def test_without_the_classes_it_says_changes():
    assert flip_sentence({"throughput": 0.61}, "move").startswith("This answer changes if throughput falls below 61 %")

"""The move date in a metric: a headline short enough to show whole, the full words beside it."""

from datetime import date

import pytest

from models.planning.moves import MoveForecast

WEEK = date(2026, 12, 7)


@pytest.mark.parametrize(("move", "headline", "words_start"), [
    (MoveForecast(True, False), "now", "now"),
    (MoveForecast(False, False, problem="never: no volume with this hourly shape makes one replica pay"),
     "never", "never: no volume"),
    (MoveForecast(False, False, problem="forecast out of range (growth too steep to extrapolate)"),
     "out of range", "forecast out of range"),
    (MoveForecast(False, False, problem="not enough history to forecast (2 complete weeks; 4 needed)"),
     "no forecast", "not enough history"),
    (MoveForecast(False, False, problem="no forecast: the demand has no tokens"), "no forecast", "no forecast:"),
    (MoveForecast(False, False, horizon_weeks=52), "not within 52 weeks", "not within 52 weeks"),
    (MoveForecast(False, False, first_replica=WEEK, first_replica_earliest=date(2026, 11, 30),
                  first_replica_latest=date(2027, 1, 4)), "2026-12-07", "2026-12-07 (between 2026-11-30"),
])
def test_headline_is_short_and_the_words_say_the_rest(move, headline, words_start):
    assert move.first_replica_headline == headline
    assert move.first_replica_words.startswith(words_start)
    assert len(move.first_replica_headline) <= 20  # a metric column shows about 20 characters whole

"""The v2 optimum (rule 5) without enumerating every replica count, exact to the tie tolerance.

For R >= 1, ``Total(R) = C(R) + Def(R) + K`` where ``K = sum E_t + F H / 730``,
``C(R) = R h_rep H + sum_t c_t(R)`` is the committed cost plus each hour's interactive API and
on-demand cost, and ``Def(R)`` the deferrable API cost.

- Each ``c_t`` is convex in R. Where a full on-demand replica pays, with ``n0 = floor(Wi / cap)``
  and remainder ``r``, the hour costs ``(n0 - R) h_od + m`` for R <= n0 (``m`` the cost of the
  remainder: ``h_od`` if renting it pays, else ``r a``) and 0 after: slopes ``-h_od``, then
  ``-m >= -h_od``, then 0. Elsewhere it costs ``max(0, Wi - R cap) a``. On hours sorted by ``Wi``,
  one ``searchsorted`` and suffix sums give C in O(log H).
- ``Def`` is non-increasing but not convex. Day ``delta`` costs ``K (1 - S(x) / D)`` until its
  spare ``S(x) = sum max(0, x - Wi_t)`` (x = R cap) reaches its deferrable work D at ``x = z``,
  then 0. So each hour with ``Wi_t < z`` takes ``(K / D) (x - Wi_t)`` off its day's cost for x
  between ``Wi_t`` and ``z``: events sorted once give Def in O(log H) too.
- Total is therefore piecewise linear in R with kinks only at ``Wi_t / cap`` and ``z / cap``.

The search: below ``Rc`` (the smallest minimiser of the convex C) Total is non-increasing, so
the best R <= Rc is Rc and the smallest tie a binary search. Above Rc, branch and bound on the
lower bound ``C(lo) + Def(hi) + K`` (C rises there, Def falls), splitting intervals at a kink
until none is left inside; an interval without a kink is one straight piece, exact at its ends.
Memory is O(H), never O(R_max).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

import numpy as np

from models.economics.contract import PEAK_TOLERANCE, TIE_TOLERANCE_USD
from models.economics.plan_hours import HourParts, Prices

FLOAT_SLACK = 1e-10  # relative: prefix sums and per-hour sums may differ by rounding, never by more
GRID = 64  # replica counts priced per vectorised call when a monotone test is bracketed
PRICE_ALL_UP_TO = 4096  # up to this many replicas pricing every R in one call is cheaper than the search


def _suffix(x: np.ndarray) -> np.ndarray:
    """suffix[i] = sum of x[i:], with a trailing 0."""
    out = np.zeros(x.size + 1)
    out[:-1] = np.cumsum(x[::-1])[::-1]
    return out


def _prefix(x: np.ndarray) -> np.ndarray:
    """prefix[i] = sum of x[:i], with a leading 0."""
    out = np.zeros(x.size + 1)
    out[1:] = np.cumsum(x)
    return out


def _day_saturation(parts: HourParts) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per UTC day with deferrable work: D, the cost K and ``z``, where spare capacity reaches D."""
    n_days = parts.days
    work = np.bincount(parts.day, weights=parts.deferrable_work, minlength=n_days).astype(np.float64)
    cost = np.bincount(parts.day, weights=parts.deferrable_cost, minlength=n_days).astype(np.float64)
    counts = np.bincount(parts.day, minlength=n_days)
    width = int(counts.max()) if n_days else 1
    grid = np.full((n_days, width), np.inf)
    order = np.lexsort((parts.interactive_work, parts.day))
    first = np.concatenate(([0], np.cumsum(counts)[:-1]))
    day_of = parts.day[order]
    grid[day_of, np.arange(order.size) - first[day_of]] = parts.interactive_work[order]
    below = np.arange(width)[None, :]
    real = below < counts[:, None]
    filled = np.where(real, grid, 0.0)
    before = np.cumsum(filled, axis=1) - filled  # sum of the hours below each hour of its day
    spare_at = np.where(real, below * filled - before, np.inf)  # S at each of the day's Wi values
    k = np.maximum((spare_at <= work[:, None]).sum(axis=1) - 1, 0)  # the last breakpoint at or below D
    through = before[np.arange(n_days), k] + filled[np.arange(n_days), k]
    z = (work + through) / (k + 1)
    return work, cost, z


@dataclass(frozen=True)
class SortedHours:
    """Hours of one plan arranged once for fast ``Total(R)``; ``scaled`` applies flip multipliers in O(H)."""

    work: np.ndarray  # Wi_t of hours with interactive work, ascending
    cost: np.ndarray  # Ai_t in the same order
    rate: np.ndarray  # a_t = Ai_t / Wi_t in the same order
    cost_after: np.ndarray  # suffix sums of cost
    rate_after: np.ndarray  # suffix sums of rate
    kinks: np.ndarray  # Wi_t of every hour, ascending: where Total(R) may bend
    day_z: np.ndarray  # z of each day with deferrable work, ascending
    day_cost_after: np.ndarray  # suffix sums of those days' K in that order
    start_work: np.ndarray  # Wi_t of hours that take off their day's deferrable cost, ascending
    start_weight: np.ndarray  # prefix sums of K / D in that order
    start_moment: np.ndarray  # prefix sums of (K / D) Wi_t
    end_z: np.ndarray  # z of the same hours' days, ascending
    end_weight: np.ndarray
    end_moment: np.ndarray
    peak_work: float  # max_t (Wi_t + Wd_t)
    escalated: float
    interactive: float
    deferrable: float
    hours: int
    _whole: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def build(cls, parts: HourParts) -> "SortedHours":
        """Sort the interactive hours by work and turn each UTC day's deferrable cost into events."""
        wi = parts.interactive_work
        busy = wi > 0
        order = np.argsort(wi[busy], kind="stable")
        work, cost = wi[busy][order], parts.interactive_cost[busy][order]
        if parts.hours:
            d_work, d_cost, z = _day_saturation(parts)
        else:
            d_work = d_cost = z = np.zeros(0)
        has = d_work > 0
        weight = np.divide(d_cost, d_work, out=np.zeros_like(d_cost), where=has)
        z_of_hour, w_of_hour = z[parts.day], weight[parts.day]
        takes = has[parts.day] & (wi < z_of_hour)
        s_order = np.argsort(wi[takes], kind="stable")
        e_order = np.argsort(z_of_hour[takes], kind="stable")
        sw, sweight = wi[takes][s_order], w_of_hour[takes][s_order]
        ew, eweight, ez = wi[takes][e_order], w_of_hour[takes][e_order], z_of_hour[takes][e_order]
        z_order = np.argsort(z[has], kind="stable")
        return cls(
            work=work, cost=cost, rate=cost / work, cost_after=_suffix(cost), rate_after=_suffix(cost / work),
            kinks=np.sort(wi),
            day_z=z[has][z_order], day_cost_after=_suffix(d_cost[has][z_order]),
            start_work=sw, start_weight=_prefix(sweight), start_moment=_prefix(sweight * sw),
            end_z=ez, end_weight=_prefix(eweight), end_moment=_prefix(eweight * ew),
            peak_work=float((wi + parts.deferrable_work).max()) if parts.hours else 0.0,
            escalated=float(parts.escalated_cost.sum()), interactive=float(parts.interactive_cost.sum()),
            deferrable=float(parts.deferrable_cost.sum()), hours=parts.hours,
        )

    def whole_replicas(self, work: float, cap: float) -> tuple[np.ndarray, np.ndarray]:
        """``n0 = floor(Wi / cap)`` and the remainder of each interactive hour at a work multiplier (cached)."""
        key = (work, cap)
        if key not in self._whole:
            w = self.work * work
            n0 = np.floor(w / cap)
            self._whole.clear()  # the flips visit one multiplier at a time: keep one
            self._whole[key] = (n0, w - n0 * cap)
        return self._whole[key]

    def deferred(self, x: np.ndarray) -> np.ndarray:
        """``Def`` at committed capacity ``x = R cap`` (replica-seconds an hour), unscaled."""
        i_z = np.searchsorted(self.day_z, x, side="right")
        i_s = np.searchsorted(self.start_work, x, side="left")
        i_e = np.searchsorted(self.end_z, x, side="right")
        taken = (x * self.start_weight[i_s] - self.start_moment[i_s]
                 - x * self.end_weight[i_e] + self.end_moment[i_e])
        return np.maximum(self.day_cost_after[i_z] - taken, 0.0)

    def scaled(self, prices: Prices, work: float = 1.0, api: float = 1.0, gpu: float = 1.0) -> "Core":
        """The search core with work, API prices and GPU costs multiplied (the flip multipliers)."""
        return Core(self, prices, work, api, gpu)


class Core:
    """``Total(R)`` for one set of multipliers, in O(log H) per R and vectorised over R."""

    def __init__(self, hours: SortedHours, prices: Prices, work: float, api: float, gpu: float) -> None:
        cap = prices.cap
        self.base, self.work_scale, self.api_scale = hours, work, api
        self.cap, self.hours = cap, hours.hours
        self.h_rep = prices.h_rep * gpu
        self.h_od = None if prices.h_od is None else prices.h_od * gpu
        self.fixed = prices.fixed_total
        self.escalated, self.interactive = hours.escalated * api, hours.interactive * api
        self.deferrable = hours.deferrable * api
        self.has_deferrable = hours.day_z.size > 0 and self.deferrable > 0
        self.r_max = max(0, int(np.ceil(hours.peak_work * work / cap - PEAK_TOLERANCE))) if hours.hours else 0
        h_od = self.h_od or 0.0
        # A full on-demand replica pays in hour t when cap * a_t * api / work > h_od: a threshold on a_t.
        pays = (hours.rate > h_od * work / (cap * api) if api > 0 else np.zeros(hours.rate.size, dtype=bool)) \
            if self.h_od is not None else None
        # The hours where it does not are kept unscaled; each query is scaled instead (O(1), not O(H)).
        self._lin_scale = (work, api, api / work)
        if pays is None or not pays.any():
            self.lin_work, self.lin_cost, self.lin_rate = hours.work, hours.cost_after, hours.rate_after
            pays = np.zeros(hours.rate.size, dtype=bool)
        else:
            self.lin_work = hours.work[~pays]
            self.lin_cost, self.lin_rate = _suffix(hours.cost[~pays]), _suffix(hours.rate[~pays])
        # Hours where it pays: (n0 - R) h_od + m for R <= n0, else 0.
        n0, rest = hours.whole_replicas(work, cap)
        every = bool(pays.all())
        n0, rest = (n0, rest) if every else (n0[pays], rest[pays])
        a2 = hours.rate * (api / work) if every else hours.rate[pays] * (api / work)
        self.od_full = n0
        self.od_value = _suffix(n0 * h_od + np.where(rest * a2 > h_od, h_od, rest * a2))
        self.od_any_at_zero = bool(np.any((n0 >= 1) | (rest * a2 > h_od)))
        self._to_base = cap / work  # a replica count in the unscaled hours' replica-seconds

    # --- Total(R) ---------------------------------------------------------------------

    def committed(self, r: np.ndarray) -> np.ndarray:
        """``C(R)``: replicas for every hour plus interactive API and on-demand cost."""
        r = np.asarray(r, dtype=np.float64)
        x = r * self.cap
        work, api, per = self._lin_scale  # the linear hours are kept unscaled: scale the query and the sums
        i = np.searchsorted(self.lin_work, x / work, side="right")
        linear = np.maximum(api * self.lin_cost[i] - x * per * self.lin_rate[i], 0.0)
        j = np.searchsorted(self.od_full, r, side="left")
        rented = self.od_value[j] - r * (self.h_od or 0.0) * (self.od_full.size - j)
        return r * self.h_rep * self.hours + linear + np.maximum(rented, 0.0)

    def deferred(self, r: np.ndarray) -> np.ndarray:
        """``Def(R)``: per UTC day, the deferrable API cost left after spare committed capacity."""
        r = np.asarray(r, dtype=np.float64)
        if not self.has_deferrable:
            return np.zeros(r.shape)
        # Scaling work by s scales every day's spare and deferrable work alike: Def(x) = api Def_1(x / s).
        return self.api_scale * self.base.deferred(r * self.cap / self.work_scale)

    def total(self, r: np.ndarray) -> np.ndarray:
        """``Total(R)`` for R >= 1."""
        r = np.atleast_1d(np.asarray(r, dtype=np.float64))
        return self.committed(r) + self.deferred(r) + self.escalated + self.fixed

    def _t1(self, r: int) -> float:
        return float(self.total(np.array([r]))[0])

    def _c1(self, r: int) -> float:
        return float(self.committed(np.array([r], dtype=np.float64))[0])

    def zero_plan(self) -> tuple[float, bool]:
        """``Total(0)`` and whether it rents on demand: the cheaper of renting and not (ties: not)."""
        nothing = self.escalated + self.interactive + self.deferrable
        if self.h_od is None or not self.od_any_at_zero:
            return nothing, False
        rented = float(self.committed(np.array([0.0]))[0]) + self.escalated + self.deferrable + self.fixed
        return (rented, True) if rented < nothing - TIE_TOLERANCE_USD else (nothing, False)

    # --- the search -------------------------------------------------------------------

    def _slack(self, value: float) -> float:
        return FLOAT_SLACK * max(1.0, abs(value))

    def _kink_inside(self, lo: int, hi: int) -> float | None:
        """A kink strictly between lo and hi (the middle one), or None: then Total is straight on lo..hi."""
        for kinks in (self.base.kinks, self.base.day_z):  # replica-seconds of the unscaled hours
            a = int(np.searchsorted(kinks, lo * self._to_base, side="right"))
            b = int(np.searchsorted(kinks, hi * self._to_base, side="left"))
            if b > a:
                return float(kinks[(a + b - 1) // 2]) / self._to_base
        return None

    def _split(self, lo: int, hi: int) -> list[tuple[int, int]] | None:
        """Two intervals on either side of a kink inside lo..hi, or None when there is none."""
        kink = self._kink_inside(lo, hi)
        if kink is None:
            return None
        cut = min(max(lo, math.floor(kink)), hi - 1)
        return [(lo, cut), (cut + 1, hi)]

    def _first_true(self, lo: int, hi: int, test) -> int:
        """Smallest R in lo..hi where ``test`` (monotone: False then True, True at hi) holds.

        Each round prices GRID points in one vectorised call and keeps the bracket around the
        first True, so even ten million replica counts take three or four calls.
        """
        while True:
            if hi - lo <= GRID:
                points = np.arange(lo, hi + 1)
                return int(points[int(np.argmax(test(points)))])
            points = np.unique(np.linspace(lo, hi, GRID + 1).astype(np.int64))
            i = int(np.argmax(test(points)))
            lo, hi = (int(points[i - 1]) + 1 if i else lo), int(points[i])

    def _convex_argmin(self) -> int:
        """Smallest R in 1..R_max minimising the convex C: the first R whose next step does not go down."""
        def rises(points: np.ndarray) -> np.ndarray:
            c = self.committed(np.stack([points, points + 1]).astype(np.float64))
            return (c[1] - c[0] >= 0) | (points >= self.r_max)
        return self._first_true(1, self.r_max, rises)

    def _first_at_most(self, lo: int, hi: int, threshold: float) -> int:
        """Smallest R in lo..hi with Total(R) <= threshold, Total non-increasing there and Total(hi) within it."""
        return self._first_true(lo, hi, lambda points: (self.total(points) <= threshold) | (points >= hi))

    def _bound(self, lo: int, hi: int) -> float:
        """A lower bound of Total on lo..hi for lo >= Rc, where C rises and Def falls."""
        return self._c1(lo) + float(self.deferred(np.array([float(hi)]))[0]) + self.escalated + self.fixed

    def _minimum_above(self, lo: int, hi: int, best: float) -> float:
        """The least Total on lo..hi (or ``best`` if nothing there is lower), best-first branch and bound."""
        heap = [(self._bound(lo, hi), lo, hi)] if lo <= hi else []
        while heap:
            bound, a, b = heapq.heappop(heap)
            if bound + self._slack(best) >= best:
                break  # the heap is ordered: no interval left can improve on best
            ends = self.total(np.array([a, b]))
            best = min(best, float(ends.min()))
            for c, d in self._split(a, b) or ():
                heapq.heappush(heap, (self._bound(c, d), c, d))
        return best

    def _first_on_piece(self, a: int, b: int, threshold: float) -> int | None:
        """Smallest R in a..b with Total(R) <= threshold where Total is one straight piece."""
        ta, tb = self.total(np.array([a, b]))
        if ta <= threshold:
            return a
        if tb > threshold:
            return None
        guess = a + max(1, math.ceil((ta - threshold) / (ta - tb) * (b - a)) - 1)
        guess = min(max(guess, a + 1), b)
        while guess > a + 1 and self._t1(guess - 1) <= threshold:  # rounding: step back, then forward
            guess -= 1
        while self._t1(guess) > threshold:
            guess += 1
        return guess

    def _leftmost_above(self, lo: int, hi: int, threshold: float) -> int | None:
        """Smallest R in lo..hi with Total(R) <= threshold (depth first, left first), None if none."""
        stack = [(lo, hi)] if lo <= hi else []
        while stack:
            a, b = stack.pop()
            if self._bound(a, b) - self._slack(threshold) > threshold:
                continue
            halves = self._split(a, b)
            if halves is None:
                found = self._first_on_piece(a, b, threshold)
                if found is not None:
                    return found
                continue
            stack.extend(reversed(halves))
        return None

    def best_committed(self) -> tuple[int, float]:
        """The smallest R in 1..R_max within the tie tolerance of the least Total, and that least Total."""
        rc = self._convex_argmin()
        at_rc = self._t1(rc)
        least = self._minimum_above(rc + 1, self.r_max, at_rc) if self.has_deferrable else at_rc
        threshold = least + TIE_TOLERANCE_USD
        if at_rc <= threshold:
            return self._first_at_most(1, rc, threshold), least
        found = self._leftmost_above(rc + 1, self.r_max, threshold)
        return (found if found is not None else rc), least

    def optimum(self) -> tuple[int, bool]:
        """Rule 5's optimal R and whether that plan rents on demand at R = 0."""
        zero, rents = self.zero_plan()
        if self.r_max == 0:
            return 0, rents
        r, least = self.best_committed()
        if zero <= min(zero, least) + TIE_TOLERANCE_USD:
            return 0, rents
        return r, False

    def best(self) -> tuple[int, float]:
        """Rule 5's optimal R and its ``Total``: every R priced in one vectorised call up to ``PRICE_ALL_UP_TO``
        replicas (a curve asks this at hundreds of volumes), the search above."""
        zero, _ = self.zero_plan()
        if self.r_max == 0:
            return 0, zero
        if self.r_max > PRICE_ALL_UP_TO:
            r, _ = self.optimum()
            return r, (zero if r == 0 else self._t1(r))
        totals = self.total(np.arange(1, self.r_max + 1, dtype=np.float64))
        least = float(totals.min())
        if zero <= min(zero, least) + TIE_TOLERANCE_USD:
            return 0, zero
        i = int(np.flatnonzero(totals <= least + TIE_TOLERANCE_USD)[0])
        return i + 1, float(totals[i])

    def plan_class(self) -> str:
        """Rule 7: ``tokens`` (R = 0, no on-demand hour), ``move`` (R = R_max >= 1) or ``hybrid``.

        The same answer as classifying ``optimum()``, usually without the full search. Total is
        non-increasing up to Rc, so its least is on Rc..R_max; pricing GRID points there in one
        call bounds it from above (their least) and from below (``C`` at the left and ``Def`` at
        the right of each gap, since C rises and Def falls there). Only a multiplier whose
        answer those bounds leave open gets the full search.
        """
        zero, rents = self.zero_plan()
        if self.r_max == 0:
            return "hybrid" if rents else "tokens"
        rc = self._convex_argmin()
        points = np.unique(np.linspace(rc, self.r_max, GRID + 1).astype(np.int64)).astype(np.float64)
        c, left = self.committed(points), self.deferred(points)
        t = c + left + self.escalated + self.fixed
        every = points.size == self.r_max - rc + 1  # every R from Rc on is priced: the bounds are exact
        gaps = c[:-1] + left[1:] + self.escalated + self.fixed if points.size > 1 else t
        lower = float(t.min()) if every else float(min(gaps.min(), t.min()))
        upper = float(t.min())
        slack = self._slack(upper)
        if zero <= lower - slack + TIE_TOLERANCE_USD:
            at_zero = True
        elif zero > upper + slack + TIE_TOLERANCE_USD:
            at_zero = False
        else:
            at_zero = zero <= self.best_committed()[1] + TIE_TOLERANCE_USD
        if at_zero:
            return "hybrid" if rents else "tokens"
        if self.r_max == 1:
            return "move"
        t_max = float(t[-1])
        if points.size > 1:
            priced_below = float(t[:-1].min())  # the least priced below R_max, and a floor for all of them
            floor_below = priced_below if every else float(gaps.min())
        else:  # Rc = R_max: Total is non-increasing all the way, so its least below R_max is at R_max - 1
            priced_below = floor_below = self._t1(self.r_max - 1)
        if priced_below <= t_max + TIE_TOLERANCE_USD - slack:
            return "hybrid"  # an R below R_max is within the tie tolerance of the least
        if t_max + TIE_TOLERANCE_USD < floor_below - slack:
            return "move"
        r, _ = self.best_committed()
        return "move" if r == self.r_max else "hybrid"

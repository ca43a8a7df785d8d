"""Properties of the tier rules (rules.md section 4) over generated scores."""

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from services.tiering.domain.customers import (
    CustomerTiering,
    Honorary,
    apply_honorary,
    apply_legacy_roster,
    apply_score,
)
from services.tiering.domain.tiers import Score, tier_for
from shared.events.values import Channel, Standard, Tier
from shared.ruleset import load_ruleset

RULESET = load_ruleset(Path(__file__).resolve().parents[2] / "rulesets" / "individual-2015.yaml")
CUTOVER = RULESET.cutover_date

amounts = st.decimals(min_value=0, max_value=1_000_000, places=2, allow_nan=False, allow_infinity=False)
tiers = st.sampled_from(list(Tier))
standards = st.sampled_from(list(Standard))


def _rank(tier: Tier | None) -> int:
    return tier.rank if tier is not None else 0


@st.composite
def score_sequences(draw: st.DrawFn, *, start: date) -> list[Score]:
    """Scores with non-decreasing dates, starting on `start`."""
    count = draw(st.integers(min_value=1, max_value=8))
    day = start
    scores = []
    for _ in range(count):
        day += timedelta(days=draw(st.integers(min_value=0, max_value=60)))
        scores.append(
            Score(
                as_of=day,
                points=draw(amounts),
                standard_premium=draw(amounts),
                serving_channel=draw(st.sampled_from([Channel.AGENCY, Channel.BANCASSURANCE, None])),
                trigger="new_business",
            )
        )
    return scores


def _fold(state: CustomerTiering, scores: list[Score]) -> CustomerTiering:
    for item in scores:
        state = apply_score(state, score=item, revision=state.score_revision + 1, ruleset=RULESET).state
    return state


@given(first=amounts, second=amounts, standard=standards)
def test_tier_is_monotone_in_points(first: Decimal, second: Decimal, standard: Standard) -> None:
    low, high = sorted((first, second))
    assert _rank(tier_for(low, standard, RULESET)) <= _rank(tier_for(high, standard, RULESET))


@given(tier=tiers, standard=standards)
def test_each_lower_bound_is_inclusive_and_a_cent_below_is_the_tier_under(tier: Tier, standard: Standard) -> None:
    bound = RULESET.thresholds[standard].lower_bound(tier)
    assert tier_for(bound, standard, RULESET) is tier
    assert _rank(tier_for(bound - Decimal("0.01"), standard, RULESET)) == tier.rank - 1


@given(scores=score_sequences(start=CUTOVER), position=st.integers(min_value=0, max_value=8))
def test_a_late_roster_entry_ends_where_an_early_one_would(scores: list[Score], position: int) -> None:
    """Events arrive in any order across topics: the roster's place among the scores is irrelevant."""
    since = date(2010, 1, 1)
    early = apply_legacy_roster(CustomerTiering(), since=since, as_of=CUTOVER, ruleset=RULESET).state
    early = _fold(early, scores)

    cut = min(position, len(scores))
    late = _fold(CustomerTiering(), scores[:cut])
    late = apply_legacy_roster(
        late, since=since, as_of=scores[cut - 1].as_of if cut else CUTOVER, ruleset=RULESET
    ).state
    late = _fold(late, scores[cut:])

    assert early.shown is not None and late.shown is not None
    assert (late.shown.tier, late.shown.standard, late.shown.points, late.shown.vip_since is None) == (
        early.shown.tier,
        early.shown.standard,
        early.shown.points,
        early.shown.vip_since is None,
    )


@given(scores=score_sequences(start=CUTOVER - timedelta(days=90)))
def test_once_on_2015_after_cutover_a_customer_never_returns_to_legacy(scores: list[Score]) -> None:
    state = apply_legacy_roster(CustomerTiering(), since=date(2010, 1, 1), as_of=CUTOVER, ruleset=RULESET).state
    left = False
    for item in scores:
        state = _fold(state, [item])
        assert state.shown is not None
        if item.as_of >= CUTOVER:
            if left:
                assert state.shown.standard is Standard.Y2015
            left = left or state.shown.standard is Standard.Y2015


@given(scores=score_sequences(start=CUTOVER - timedelta(days=30)), honorary=st.none() | tiers)
def test_effective_tier_is_the_higher_of_computed_and_honorary(scores: list[Score], honorary: Tier | None) -> None:
    granted = Honorary(tier=honorary) if honorary is not None else None
    state = apply_honorary(CustomerTiering(), honorary=granted, as_of=CUTOVER, ruleset=RULESET).state
    state = _fold(state, scores)
    assert state.shown is not None
    decided = state.shown
    assert decided.computed_tier is tier_for(decided.points, decided.standard, RULESET)
    assert _rank(decided.tier) == max(_rank(decided.computed_tier), _rank(honorary))
    assert (decided.vip_since is None) == (decided.tier is None)


@given(scores=score_sequences(start=CUTOVER), stale=st.integers(min_value=-3, max_value=0))
def test_a_revision_not_above_the_last_applied_changes_nothing(scores: list[Score], stale: int) -> None:
    state = _fold(CustomerTiering(), scores)
    replayed = apply_score(state, score=scores[0], revision=state.score_revision + stale, ruleset=RULESET)
    assert replayed.stale and replayed.decision is None and replayed.state == state

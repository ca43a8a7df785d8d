"""The simulation's SQL rules agree with the platform's pure rule (`score_policy`), policy by policy,
under the live ruleset and under candidates that change every number the formula reads."""

import json
from dataclasses import asdict
from datetime import date
from decimal import Decimal
from pathlib import Path
from tempfile import TemporaryDirectory

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli.simulate.engine import connect, load_book
from cli.simulate.rules_sql import points_cents, standard_premium_cents
from services.scoring.domain.points import score_policy
from services.scoring.domain.policies import Policy
from shared.ruleset import Ruleset, load_ruleset
from shared.settings import DEFAULT_RULESET_PATH
from tests.scoring.test_rules_points_properties import dates, policies

LIVE = load_ruleset(DEFAULT_RULESET_PATH)
CANDIDATE = LIVE.model_copy(
    update={
        "cooling_off_days": 10,
        "points_2015": LIVE.points_2015.model_copy(
            update={"long_term_min_years": 12, "account_value_factor": Decimal("0.075"), "single_premium_term_years": 2}
        ),
        "legacy": LIVE.legacy.model_copy(
            update={"term_factors": {1: Decimal("0.15"), 4: Decimal("0.333"), 12: Decimal("1.05")}}
        ),
    }
)


def _document(policy: Policy) -> str:
    return json.dumps({"last_event_type": "new_business", "policy": asdict(policy)}, default=str)


def sql_figures(book: list[Policy], *, ruleset: Ruleset, as_of: date) -> list[tuple[str, Decimal, Decimal]]:
    with TemporaryDirectory() as folder:
        path, tiers = Path(folder) / "policies.ndjson", Path(folder) / "tiers.ndjson"
        path.write_text("".join(_document(policy) + "\n" for policy in book))
        tiers.write_text("")
        db = connect()
        load_book(db, policies=path, tiers=tiers)
        rows = db.execute(
            f"SELECT policy_no, {points_cents(ruleset, as_of=as_of)}, {standard_premium_cents(ruleset, as_of=as_of)}"
            " FROM policies"
        ).fetchall()
    return [(policy_no, Decimal(points) / 100, Decimal(premium) / 100) for policy_no, points, premium in rows]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(policies(), min_size=1, max_size=25, unique_by=lambda policy: policy.policy_no),
    dates,
    st.sampled_from([LIVE, CANDIDATE]),
)
def test_the_sql_rules_give_the_points_of_the_pure_rule(book: list[Policy], as_of: date, ruleset: Ruleset) -> None:
    expected = {}
    for policy in book:
        score = score_policy(policy, ruleset=ruleset, as_of=as_of)
        expected[policy.policy_no] = (score.points, score.standard_premium)

    got = {
        policy_no: (points, premium) for policy_no, points, premium in sql_figures(book, ruleset=ruleset, as_of=as_of)
    }

    assert got == expected

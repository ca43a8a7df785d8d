"""The simulation's figures on a small book: the matrix, the moves, legacy, quota and cost."""

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from cli.simulate import engine
from cli.simulate.command import contract_prices, render
from shared.events.values import Standard
from shared.ruleset import Ruleset, load_ruleset
from shared.settings import DEFAULT_RULESET_PATH
from tests.builders.policies import policy_event

LIVE = load_ruleset(DEFAULT_RULESET_PATH)
AS_OF = date(2026, 12, 2)


def lowered_gold(gold: str) -> Ruleset:
    thresholds = dict(LIVE.thresholds)
    thresholds[Standard.Y2015] = thresholds[Standard.Y2015].model_copy(update={"gold": Decimal(gold)})
    return LIVE.model_copy(update={"version": "candidate.1", "thresholds": thresholds})


def policy(policy_no: str, holder_id: str, premium: str) -> bytes:
    state = policy_event(policy_no=policy_no, holder_id=holder_id, modal_premium=premium)["policy"]
    return orjson.dumps({"last_event_type": "new_business", "policy": state})


def tier(customer_id: str, now: str | None, **fields: Any) -> bytes:
    row = {"customer_id": customer_id, "tier": now, "standard": "2015", "honorary_tier": None,
           "honorary_expires_on": None, "keeps_legacy": False} | fields  # fmt: skip
    return orjson.dumps(row)


def simulate(tmp_path: Path, *, candidate: Ruleset, prices: dict[str, Decimal]) -> engine.Simulation:
    policies, tiers = tmp_path / "p.ndjson", tmp_path / "t.ndjson"
    policies.write_bytes(b"\n".join([
        policy("P1", "C1", "36000.00"),   # gold now, stays gold
        policy("P2", "C2", "80000.00"),   # platinum, stays
        policy("P3", "C3", "26000.00"),   # none now, gold under a Gold of 25,000
        policy("P5", "C5", "22000.00"),   # legacy: 22,000 standard premium; legacy gold 20,000 both times
    ]) + b"\n")  # fmt: skip
    tiers.write_bytes(b"\n".join([
        tier("C1", "gold"), tier("C2", "platinum"), tier("C3", None),
        tier("C4", "diamond", honorary_tier="diamond"),  # honorary, no policy: keeps diamond
        tier("C5", "gold", standard="legacy", keeps_legacy=True),
    ]) + b"\n")  # fmt: skip
    db = engine.connect()
    engine.load_book(db, policies=policies, tiers=tiers)
    engine.load_catalogs(db, live=LIVE, candidate=candidate, prices=prices)
    engine.compute(db, candidate=candidate, live=LIVE, as_of=AS_OF)
    engine.write_results(db, path=tmp_path / "out.csv")
    return engine.summarise(db, candidate=candidate, as_of=AS_OF)


def test_the_live_ruleset_moves_nobody(tmp_path: Path) -> None:
    result = simulate(tmp_path, candidate=LIVE, prices={})

    assert (result.moves, result.quota_change, result.customers, result.policies) == (0, 0, 5, 4)
    assert result.matrix == {
        ("gold", "gold"): 2,
        ("platinum", "platinum"): 1,
        (None, None): 1,
        ("diamond", "diamond"): 1,
    }


def test_a_lower_gold_moves_the_customer_below_it_and_costs_the_gold_quota(tmp_path: Path) -> None:
    candidate = lowered_gold("25000")
    gold_quota = {s.code: s.yearly_quota for s in LIVE.services if "gold" in s.tiers and s.yearly_quota}
    priced = next(iter(gold_quota))

    result = simulate(tmp_path, candidate=candidate, prices={priced: Decimal("150.00")})

    assert result.matrix[(None, "gold")] == 1
    assert (result.moves, result.upgrades, result.downgrades, result.moved_by_candidate) == (1, 1, 0, 1)
    assert (result.legacy_customers, result.legacy_moves) == (1, 0)
    assert result.quota_change == sum(gold_quota.values())
    assert result.cost_change == Decimal("150.00") * gold_quota[priced]
    rows = (tmp_path / "out.csv").read_text().splitlines()
    assert rows[0].startswith("customer_id,tier_now,tier_candidate,moves")
    assert rows[3].startswith("C3,,gold,true,,true")
    assert "no tier" not in "\n".join(render(result))


def test_contract_prices_average_the_approved_contracts_only() -> None:
    contracts = [
        {"service_code": "health_checkup", "state": "approved", "unit_cost": "100.00"},
        {"service_code": "health_checkup", "state": "approved", "unit_cost": "201.00"},
        {"service_code": "health_checkup", "state": "pending", "unit_cost": "999.00"},
    ]

    assert contract_prices(contracts) == {"health_checkup": Decimal("150.50")}

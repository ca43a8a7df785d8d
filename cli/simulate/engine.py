"""The simulation itself: the book (scoring's policies, tiering's tiers, entitlements' prices) in an
embedded DuckDB, the candidate ruleset's rules as SQL over all of it at once, and the figures.

Invariants:
- Nothing is written anywhere but the DuckDB in memory (and `--output`): a simulation changes nothing.
- "Tier now" is tiering's effective tier as last decided; "tier under the candidate" is the higher of
  the candidate's computed tier (points recomputed from every policy under the candidate's formula,
  held against its thresholds under the customer's standard) and an honorary tier still in force on
  `as_of`. The standard is tiering's: legacy for a customer who keeps legacy standing (or for any date
  before the candidate's cutover), 2015 otherwise.
- A yearly value-added quota is counted per customer and service from the catalog that applies to
  the tier: the live catalog for the tier now, the candidate's for the tier under the candidate; the
  cost of the change prices each service at the average unit cost of its approved contracts.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb

from cli.simulate.rules_sql import points_cents, standard_premium_cents, tier_of, tier_rank
from shared.events.values import Standard, Tier
from shared.ruleset import Ruleset

_POLICY_COLUMNS = (
    "STRUCT(policy_no VARCHAR, holder_id VARCHAR, channel VARCHAR, status VARCHAR, issued_on DATE,"
    " cooling_off_ends_on DATE, product_type VARCHAR, payment_term_years INTEGER, payment_mode VARCHAR,"
    " modal_premium DECIMAL(18,2), account_value DECIMAL(18,2), annuity_converted_premium DECIMAL(18,2),"
    " premium_waived BOOLEAN, paid_up BOOLEAN, loan_outstanding DECIMAL(18,2))"
)
_TIER_COLUMNS = (
    "{customer_id: 'VARCHAR', tier: 'VARCHAR', standard: 'VARCHAR', honorary_tier: 'VARCHAR',"
    " honorary_expires_on: 'DATE', keeps_legacy: 'BOOLEAN'}"
)
TIERS = (None, *(tier.value for tier in sorted(Tier, key=lambda tier: tier.rank)))
"""Rows and columns of the migration matrix, from no tier up."""


@dataclass(frozen=True)
class ServiceQuota:
    code: str
    now: int
    candidate: int
    unit_cost: Decimal | None
    """Average unit cost of the approved contracts; None when the service has none."""

    @property
    def change(self) -> int:
        return self.candidate - self.now

    @property
    def cost_change(self) -> Decimal | None:
        return None if self.unit_cost is None else (self.unit_cost * self.change).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class Simulation:
    as_of: date
    candidate_version: str
    customers: int
    policies: int
    matrix: Mapping[tuple[str | None, str | None], int]
    """(tier now, tier under the candidate) -> customers; pairs with no customer are left out."""
    moves: int
    moved_by_candidate: int
    """Customers whose tier under the candidate differs from their tier under the live rules on the
    same date: the candidate's own effect."""
    upgrades: int
    downgrades: int
    legacy_customers: int
    legacy_moves: int
    quotas: tuple[ServiceQuota, ...]

    @property
    def quota_change(self) -> int:
        return sum(quota.change for quota in self.quotas)

    @property
    def cost_change(self) -> Decimal:
        return sum((quota.cost_change or Decimal("0.00") for quota in self.quotas), Decimal("0.00"))


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB; spills to a temporary directory rather than failing on a large book."""
    return duckdb.connect(":memory:", config={"preserve_insertion_order": False})


def load_book(db: duckdb.DuckDBPyConnection, *, policies: Path, tiers: Path) -> None:
    """Policies and tiers from the exports' NDJSON (header lines already stripped)."""
    db.execute(
        f"CREATE TABLE policies AS SELECT unnest(policy) FROM read_json(?, format='newline_delimited',"
        f" columns={{last_event_type: 'VARCHAR', policy: '{_POLICY_COLUMNS}'}})",
        [str(policies)],
    )
    db.execute(
        f"CREATE TABLE tiers AS SELECT * FROM read_json(?, format='newline_delimited', columns={_TIER_COLUMNS})",
        [str(tiers)],
    )


def load_catalogs(
    db: duckdb.DuckDBPyConnection, *, live: Ruleset, candidate: Ruleset, prices: Mapping[str, Decimal]
) -> None:
    rows = [
        (side, service.code, tier.value, service.yearly_quota)
        for side, ruleset in (("now", live), ("candidate", candidate))
        for service in ruleset.services
        if service.category == "value_added" and service.yearly_quota is not None
        for tier in service.tiers
    ]
    db.execute("CREATE TABLE catalog (side VARCHAR, code VARCHAR, tier VARCHAR, yearly_quota INTEGER)")
    if rows:
        db.executemany("INSERT INTO catalog VALUES (?, ?, ?, ?)", rows)
    db.execute("CREATE TABLE prices (code VARCHAR, unit_cost DECIMAL(18,2))")
    if prices:
        db.executemany("INSERT INTO prices VALUES (?, ?)", list(prices.items()))


def compute(db: duckdb.DuckDBPyConnection, *, candidate: Ruleset, live: Ruleset, as_of: date) -> None:
    """`results`: one row per customer known to scoring or tiering, under the candidate ruleset, with
    `tier_live`, the same judgement under the live ruleset on the same date: the difference between
    the two is the candidate's own effect, apart from what merely fell due since the last decision
    (cooling-off ended, an honorary expiry) and a daily run would change anyway."""
    _judge(db, ruleset=live, as_of=as_of, into="judged_live")
    _judge(db, ruleset=candidate, as_of=as_of, into="judged_candidate")
    db.execute(
        f"""CREATE TABLE results AS
            SELECT c.customer_id, c.tier_now, c.tier AS tier_candidate, l.tier AS tier_live,
                   c.tier_now IS DISTINCT FROM c.tier AS moves,
                   l.tier IS DISTINCT FROM c.tier AS moved_by_candidate,
                   sign({tier_rank("c.tier")} - {tier_rank("c.tier_now")}) AS direction,
                   c.standard, c.legacy, c.computed_tier, c.honorary_tier, c.points, c.standard_premium
            FROM judged_candidate c JOIN judged_live l USING (customer_id)"""
    )


def _judge(db: duckdb.DuckDBPyConnection, *, ruleset: Ruleset, as_of: date, into: str) -> None:
    """`into`: each customer's tier under `ruleset` on `as_of`, beside tiering's tier now."""
    candidate = ruleset
    legacy_always = as_of < candidate.cutover_date
    standard = (
        f"(CASE WHEN {str(legacy_always).upper()} OR coalesce(t.keeps_legacy, FALSE) THEN 'legacy' ELSE '2015' END)"
    )
    figure = f"(CASE WHEN {standard} = 'legacy' THEN coalesce(h.standard_premium, 0) ELSE coalesce(h.points, 0) END)"
    computed = (
        f"(CASE WHEN {standard} = 'legacy' THEN {tier_of(figure, standard=Standard.LEGACY, ruleset=candidate)}"
        f" ELSE {tier_of(figure, standard=Standard.Y2015, ruleset=candidate)} END)"
    )
    honorary = (
        "(CASE WHEN t.honorary_expires_on IS NULL OR t.honorary_expires_on > DATE "
        f"'{as_of.isoformat()}' THEN t.honorary_tier END)"
    )
    db.execute(
        f"""CREATE OR REPLACE TEMP TABLE holders AS
            SELECT holder_id, sum({points_cents(candidate, as_of=as_of)}) AS points,
                   sum({standard_premium_cents(candidate, as_of=as_of)}) AS standard_premium
            FROM policies GROUP BY holder_id"""
    )
    db.execute(
        f"""CREATE TABLE {into} AS
            WITH judged AS (
                SELECT coalesce(t.customer_id, h.holder_id) AS customer_id, t.tier AS tier_now,
                       {standard} AS standard, {figure} AS figure, {computed} AS computed_tier,
                       {honorary} AS honorary_tier, coalesce(t.keeps_legacy, FALSE) AS legacy,
                       coalesce(h.points, 0) AS points, coalesce(h.standard_premium, 0) AS standard_premium
                FROM tiers t FULL OUTER JOIN holders h ON t.customer_id = h.holder_id)
            , decided AS (
                SELECT *, CASE WHEN {tier_rank("honorary_tier")} > {tier_rank("computed_tier")}
                               THEN honorary_tier ELSE computed_tier END AS tier_candidate
                FROM judged)
            SELECT customer_id, tier_now, tier_candidate AS tier, standard, legacy, computed_tier, honorary_tier,
                   CAST(points * 0.01 AS DECIMAL(18,2)) AS points,
                   CAST(standard_premium * 0.01 AS DECIMAL(18,2)) AS standard_premium
            FROM decided"""
    )


def summarise(db: duckdb.DuckDBPyConnection, *, candidate: Ruleset, as_of: date) -> Simulation:
    matrix = {
        (now, then): count
        for now, then, count in db.execute(
            "SELECT tier_now, tier_candidate, count(*) FROM results GROUP BY ALL"
        ).fetchall()
    }
    totals = db.execute(
        """SELECT count(*), count(*) FILTER (moves), count(*) FILTER (direction > 0),
                  count(*) FILTER (direction < 0), count(*) FILTER (legacy), count(*) FILTER (legacy AND moves),
                  count(*) FILTER (moved_by_candidate)
           FROM results"""
    ).fetchone()
    assert totals is not None
    quotas = db.execute(
        """WITH counts AS (
               SELECT 'now' AS side, tier_now AS tier, count(*) AS customers FROM results GROUP BY tier_now
               UNION ALL
               SELECT 'candidate', tier_candidate, count(*) FROM results GROUP BY tier_candidate),
           used AS (
               SELECT c.code, sum(c.yearly_quota * n.customers) FILTER (c.side = 'now') AS now,
                      sum(c.yearly_quota * n.customers) FILTER (c.side = 'candidate') AS candidate
               FROM catalog c JOIN counts n ON c.side = n.side AND c.tier = n.tier
               GROUP BY c.code)
           SELECT k.code, coalesce(u.now, 0), coalesce(u.candidate, 0), p.unit_cost
           FROM (SELECT DISTINCT code FROM catalog) k LEFT JOIN used u USING (code) LEFT JOIN prices p USING (code)
           ORDER BY k.code"""
    ).fetchall()
    (policies,) = db.execute("SELECT count(*) FROM policies").fetchone() or (0,)
    return Simulation(
        as_of=as_of,
        candidate_version=candidate.version,
        customers=totals[0],
        policies=policies,
        matrix=matrix,
        moves=totals[1],
        moved_by_candidate=totals[6],
        upgrades=totals[2],
        downgrades=totals[3],
        legacy_customers=totals[4],
        legacy_moves=totals[5],
        quotas=tuple(
            ServiceQuota(code=code, now=int(now), candidate=int(then), unit_cost=cost)
            for code, now, then, cost in quotas
        ),
    )


def write_results(db: duckdb.DuckDBPyConnection, *, path: Path) -> None:
    """Per-customer results, CSV or Parquet by the file's extension, in customer-id order."""
    fmt = "parquet" if path.suffix.lower() in (".parquet", ".pq") else "csv"
    header = ", HEADER" if fmt == "csv" else ""
    db.execute(
        f"""COPY (SELECT customer_id, tier_now, tier_candidate, moves, tier_live, moved_by_candidate, standard, legacy,
                         points, standard_premium, computed_tier, honorary_tier FROM results ORDER BY customer_id)
            TO '{str(path).replace("'", "''")}' (FORMAT {fmt}{header})"""
    )

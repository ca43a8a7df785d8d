"""The quarter-end evaluation of a chunk of group clients as one set-based statement (rules.md section 9).

`services.tiering.domain.group.evaluate` and `workflows.group_levels.evaluate_client` are the rules'
source of truth; this statement is the same rules written in SQL so the daily run of a quarter end
moves rows, not Python objects: for 100,000 clients the per-client path (load the row with its
experience JSON, build the frozen values, evaluate, write back) cost about 1 ms a client on the
shared 2-CPU machine. `tests/tiering/test_group_quarter_end_sql.py` holds the two equal, column by
column, on generated clients (every band edge, 29 February, approvals expiring, no in-force policy,
experience after the date, claims against no premium).

Every number comes from the `GroupRuleset`: the four banded tables are bound as arrays and joined
(`from` inclusive, `to` exclusive), the loyalty adjustments and the profit table's `neutral` and
`quarters` as parameters. Decimals go in as text so the coefficients keep the scale they are written
with (the reasons quote them as the ruleset does). Arithmetic matches the domain's `Decimal`:
coefficients and score rounded half-up to 4 places (all are positive, so `round` is half-up), the
loss ratio rounded half-up exactly with integer division (`div`).

One statement per chunk, for clients the caller has locked: it re-reads them under the lock (a
client evaluated on or after the date since it was found is skipped), writes the decided columns of
every client, appends every evaluation, and returns the clients whose published view changed (what
`GroupLevelDecided` says), with their new revision, for the caller to publish.
"""

from datetime import date
from typing import Any

from sqlalchemy import text

from shared.group_ruleset import Band, GroupRuleset

_BANDS = (
    "SELECT CAST(b.lower_bound AS numeric) AS lower_bound, CAST(b.upper_bound AS numeric) AS upper_bound, "
    "CAST(b.coefficient AS numeric) AS coefficient "
    "FROM unnest(CAST(:{name}_lower AS text[]), CAST(:{name}_upper AS text[]), CAST(:{name}_coefficient AS text[])) "
    "AS b(lower_bound, upper_bound, coefficient)"
)


_READ = (
    "client_id", "branch", "annual_standard_premium", "in_force_policies", "verified_complaints", "survey_average",
    "evaluated_level", "score", "scale", "loyalty", "profit", "evaluated_on", "approved_level", "approved_expires_on",
    "approved_application", "level", "revision",
)
"""The columns of `group_clients` the statement reads past the first step (wide ones, the experience
document and the stored reason, are not carried through the materialized steps)."""


def _in_band(band: str, figure: str) -> str:
    return f"{figure} >= {band}.lower_bound AND ({band}.upper_bound IS NULL OR {figure} < {band}.upper_bound)"


def _rank(level: str) -> str:
    """`GroupRuleset.level_rank`: the first band's position naming the level, 0 for none or unknown."""
    return f"coalesce((SELECT min(r.position) - 1 FROM level_bands r WHERE r.level = {level}), 0)"


EVALUATE_CHUNK = text(
    f"""
WITH scale_bands AS ({_BANDS.format(name="scale")}),
loyalty_bands AS ({_BANDS.format(name="loyalty")}),
profit_bands AS ({_BANDS.format(name="profit")}),
level_bands AS (
  SELECT CAST(b.lower_bound AS numeric) AS lower_bound, CAST(b.upper_bound AS numeric) AS upper_bound,
         b.level, b.label, b.position
  FROM unnest(CAST(:level_lower AS text[]), CAST(:level_upper AS text[]), CAST(:level_name AS text[]),
              CAST(:level_label AS text[])) WITH ORDINALITY AS b(lower_bound, upper_bound, level, label, position)
),
due AS (
  SELECT {", ".join(f"c.{name}" for name in _READ)}, c.experience,
    CASE WHEN c.client_since IS NULL OR c.client_since >= CAST(:as_of AS date) THEN 0
    ELSE CAST(extract(year FROM CAST(:as_of AS date)) - extract(year FROM c.client_since) AS integer)
      - CASE WHEN (extract(month FROM CAST(:as_of AS date)), extract(day FROM CAST(:as_of AS date)))
                < (extract(month FROM c.client_since),
                   CASE WHEN extract(month FROM c.client_since) = 2 AND extract(day FROM c.client_since) = 29
                        THEN 28 ELSE extract(day FROM c.client_since) END)
        THEN 1 ELSE 0 END
    END AS years
  FROM group_clients c
  WHERE c.client_id = ANY(CAST(:client_ids AS varchar[])) AND c.scored_revision > 0
    AND (c.evaluated_on IS NULL OR c.evaluated_on < CAST(:as_of AS date))
),
experienced AS MATERIALIZED (
  SELECT {", ".join(f"d.{name}" for name in _READ)}, d.years, x.quarters_used, x.earned, x.incurred,
    CASE WHEN x.quarters_used = 0 OR (x.earned = 0 AND x.incurred = 0) THEN NULL
         WHEN x.earned = 0 THEN CAST('Infinity' AS numeric)
         ELSE round(div(x.incurred * 20000 + x.earned, x.earned * 2) / 10000, 4) END AS loss_ratio
  FROM due d CROSS JOIN LATERAL (
    SELECT CAST(count(*) AS integer) AS quarters_used, coalesce(sum(p.earned), 0) AS earned,
           coalesce(sum(p.incurred), 0) AS incurred
    FROM (
      SELECT CAST(e.period ->> 'earned_premium' AS numeric) AS earned,
             CAST(e.period ->> 'incurred_claims' AS numeric) AS incurred
      FROM jsonb_array_elements(d.experience) WITH ORDINALITY AS e(period, position)
      WHERE CAST(e.period ->> 'period_end' AS date) <= CAST(:as_of AS date)
      ORDER BY CAST(e.period ->> 'period_end' AS date) DESC, e.position
      LIMIT :quarters
    ) p
  ) x
),
coefficients AS (
  SELECT e.*, l.coefficient AS loyalty_base,
    round(s.coefficient, 4) AS new_scale,
    round(least(greatest(
      l.coefficient - CAST(:complaint_step AS numeric) * e.verified_complaints
      + CASE WHEN e.survey_average >= CAST(:survey_level AS numeric) THEN CAST(:survey_step AS numeric) ELSE 0 END,
      CAST(:loyalty_minimum AS numeric)), CAST(:loyalty_maximum AS numeric)), 4) AS new_loyalty,
    round(CASE WHEN e.loss_ratio IS NULL THEN CAST(:profit_neutral AS numeric) ELSE p.coefficient END, 4)
      AS new_profit
  FROM experienced e
  JOIN scale_bands s ON {_in_band("s", "greatest(e.annual_standard_premium, 0)")}
  JOIN loyalty_bands l ON {_in_band("l", "e.years")}
  LEFT JOIN profit_bands p ON {_in_band("p", "e.loss_ratio")}
),
scored AS MATERIALIZED (
  SELECT c.*, round(c.new_scale * c.new_loyalty * c.new_profit, 4) AS new_score FROM coefficients c
),
evaluated AS (
  SELECT s.*, b.level AS new_evaluated_level, b.label AS band_label,
    s.approved_level IS NOT NULL AND s.approved_application IS NOT NULL
      AND (s.approved_expires_on IS NULL OR CAST(:as_of AS date) < s.approved_expires_on) AS approval_kept
  FROM scored s JOIN level_bands b ON {_in_band("b", "s.new_score")}
),
approved AS (
  SELECT e.*,
    CASE WHEN e.approval_kept THEN e.approved_level END AS new_approved_level,
    CASE WHEN e.approval_kept THEN e.approved_expires_on END AS new_approved_expires_on,
    CASE WHEN e.approval_kept THEN e.approved_application END AS new_approved_application
  FROM evaluated e
),
effective AS MATERIALIZED (
  SELECT a.*,
    CASE WHEN a.in_force_policies = 0 THEN NULL
         WHEN {_rank("a.new_approved_level")} > {_rank("a.new_evaluated_level")} THEN a.new_approved_level
         ELSE a.new_evaluated_level END AS new_level
  FROM approved a
),
decided AS (
  SELECT f.*,
    (f.new_level, f.new_evaluated_level, f.new_approved_level, f.new_score, f.new_scale, f.new_loyalty,
     f.new_profit, CAST(:as_of AS date))
      IS DISTINCT FROM (f.level, f.evaluated_level, f.approved_level, f.score, f.scale, f.loyalty, f.profit,
                        f.evaluated_on) AS changed,
    CASE WHEN f.in_force_policies = 0 THEN 'no in-force group policy: not VIP (' || f.explained || ')'
         WHEN f.new_level IS NOT NULL AND f.new_level IS DISTINCT FROM f.new_evaluated_level
           THEN f.explained || '; effective ' || f.new_level || ' (the higher of evaluated and approved)'
         ELSE f.explained END AS new_reason
  FROM (
    SELECT e.*,
      'score ' || e.new_score || ' = scale ' || e.new_scale || ' x loyalty ' || e.new_loyalty
      || ' x profit ' || e.new_profit || ' (evaluated ' || CAST(:as_of_text AS text) || '): '
      || coalesce(e.new_evaluated_level, 'regular client')
      || CASE WHEN e.new_approved_level IS NULL THEN ''
              ELSE '; designated ' || e.new_approved_level || ' by application ' || e.new_approved_application
                   || coalesce(' until ' || to_char(e.new_approved_expires_on, 'YYYY-MM-DD'), '') END
        AS explained
    FROM effective e
  ) f
),
updated AS (
  UPDATE group_clients AS c SET
    evaluated_level = d.new_evaluated_level, score = d.new_score, scale = d.new_scale,
    loyalty = d.new_loyalty, profit = d.new_profit, evaluated_on = CAST(:as_of AS date),
    approved_level = d.new_approved_level, approved_expires_on = d.new_approved_expires_on,
    approved_application = d.new_approved_application, level = d.new_level, reason = d.new_reason,
    revision = d.revision + CAST(d.changed AS integer), updated_at = now()
  FROM decided d WHERE c.client_id = d.client_id
),
recorded AS (
  INSERT INTO group_evaluations
    (client_id, evaluated_on, trigger, level, score, scale, loyalty, profit, inputs, ruleset_version, reason)
  SELECT d.client_id, CAST(:as_of AS date), CAST(:trigger AS varchar), d.new_evaluated_level, d.new_score,
    d.new_scale, d.new_loyalty, d.new_profit,
    jsonb_build_object(
      'annual_standard_premium', CAST(d.annual_standard_premium AS text), 'years_as_client', d.years,
      'loyalty_base', CAST(d.loyalty_base AS text), 'verified_complaints', d.verified_complaints,
      'survey_average', CAST(d.survey_average AS text), 'loss_ratio', CAST(d.loss_ratio AS text),
      'earned_premium', CAST(d.earned AS text), 'incurred_claims', CAST(d.incurred AS text),
      'quarters_used', d.quarters_used),
    CAST(:ruleset_version AS varchar),
    'evaluated ' || CAST(:as_of_text AS text) || ' under ' || CAST(:ruleset_version AS text)
    || ': scale ' || d.new_scale || ' (annual standard premium ' || round(d.annual_standard_premium, 2)
    || ') x loyalty ' || d.new_loyalty || ' (' || d.years || ' whole year(s): ' || d.loyalty_base || ', '
    || d.verified_complaints || ' verified complaint(s), '
    || coalesce('last survey ' || d.survey_average, 'no survey') || ') x profit ' || d.new_profit || ' ('
    || CASE WHEN d.loss_ratio IS NULL THEN 'no experience data: neutral'
            ELSE 'loss ratio ' || round(d.incurred, 2) || '/' || round(d.earned, 2) || ' = ' || d.loss_ratio
                 || ' over ' || d.quarters_used || ' quarter(s)' END
    || ') = ' || d.new_score || ': ' || coalesce(d.new_evaluated_level, 'regular client') || ' (' || d.band_label
    || ')'
  FROM decided d ORDER BY d.client_id
)
SELECT d.client_id, d.revision + 1 AS revision, d.branch, d.new_level AS level,
  d.new_evaluated_level AS evaluated_level, d.new_approved_level AS approved_level, d.new_score AS score,
  d.new_scale AS scale, d.new_loyalty AS loyalty, d.new_profit AS profit, d.new_reason AS reason
FROM decided d WHERE d.changed ORDER BY d.client_id
"""
)


def _bands(name: str, bands: tuple[Band, ...]) -> dict[str, list[str | None]]:
    return {
        f"{name}_lower": [str(band.lower) for band in bands],
        f"{name}_upper": [None if band.upper is None else str(band.upper) for band in bands],
        f"{name}_coefficient": [str(band.coefficient) for band in bands],
    }


def chunk_parameters(
    *, client_ids: list[str], as_of: date, trigger: str, ruleset: GroupRuleset
) -> dict[str, Any]:
    """`EVALUATE_CHUNK`'s parameters: the clients, the date, and every number of the ruleset it reads."""

    loyalty = ruleset.loyalty
    return (
        {"client_ids": client_ids, "as_of": as_of, "as_of_text": as_of.isoformat(), "trigger": trigger,
         "ruleset_version": ruleset.version, "quarters": ruleset.profit.quarters,
         "profit_neutral": ruleset.profit.neutral, "complaint_step": loyalty.complaint_step,
         "survey_step": loyalty.survey_step, "survey_level": loyalty.survey_level,
         "loyalty_minimum": loyalty.minimum, "loyalty_maximum": loyalty.maximum,
         "level_lower": [str(band.lower) for band in ruleset.levels],
         "level_upper": [None if band.upper is None else str(band.upper) for band in ruleset.levels],
         "level_name": [band.level for band in ruleset.levels],
         "level_label": [band.name for band in ruleset.levels]}
        | _bands("scale", ruleset.scale.bands)
        | _bands("loyalty", ruleset.loyalty.bands)
        | _bands("profit", ruleset.profit.bands)
    )

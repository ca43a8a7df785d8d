"""`GET /v1/customers/{id}/points`: how a customer's points are made up, policy by policy."""

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from services.scoring.api.dependencies import Transactions
from services.scoring.domain.customers import CustomerScore
from services.scoring.mapping import policy_score_document
from services.scoring.repositories.customers import StoredCustomer
from services.scoring.repositories.policies import StaleSummary
from services.scoring.workflows import preview_points, stored_points
from shared.api import PROBLEMS, CallCenterOrOps
from shared.bounds import Day, PathId
from shared.problems import Problem
from shared.ruleset import Ruleset

router: APIRouter = APIRouter(prefix="/v1", tags=["scoring"])


class PolicyPoints(BaseModel):
    """One policy's contribution (`mapping.policy_score_document`) and the stale events ignored for it."""

    model_config = ConfigDict(frozen=True)

    policy_no: str
    channel: str
    branch: str
    agent_id: str | None
    issued_on: date
    state: str
    verdict: str
    formula: str | None
    factor: str | None
    base: str | None
    base_amount: str | None
    legacy_factor: str | None
    points: str
    standard_premium: str
    pending_points: str
    pending_until: date | None
    """While pending: the cooling-off's last day (the policy can still be cancelled that day)."""
    counts_from: date | None = None
    """While pending: the day its points start to count, the day after `pending_until`."""
    explanation: str
    stale_events_ignored: int
    """Events of this policy whose version was not above the applied one."""
    last_stale_version: int | None
    reconciliations: int = 0
    """Corrections applied from the policy admin snapshot (`vip reconcile --publish`)."""


class CustomerPoints(BaseModel):
    """Money and points as strings with two places, as published."""

    model_config = ConfigDict(frozen=True)

    customer_id: str
    as_of: date
    preview: bool
    revision: int | None
    trigger: str | None
    ruleset_version: str
    points: str
    standard_premium: str
    pending_points: str
    serving_channel: str | None
    next_pending_date: date | None
    """The day the earliest pending points start to count (the daily run of that date counts them)."""
    legacy_standard_premium_before_cutover: str | None = None
    """The legacy standard premium of the policies as they stood on the day before cutover; None when
    the customer held none then."""
    policies: list[PolicyPoints]


@router.get(
    "/customers/{customer_id}/points",
    responses=PROBLEMS | {404: {"model": Problem, "description": "the customer is unknown"}},
)
async def customer_points(
    customer_id: PathId,
    _: CallCenterOrOps,
    transactions: Transactions,
    as_of: Annotated[
        Day | None,
        Query(description="preview the score at this date; default: the score last determined and published"),
    ] = None,
) -> CustomerPoints:
    """The customer's points and each policy held: formula, factor, N or Z, points, and whether it is
    counted, pending until a date, or excluded and why."""
    async with transactions.read() as uow:
        if as_of is None:
            stored = await stored_points(uow, customer_id)
            figures, documents = _stored(stored), list(stored.policies)
        else:
            score = await preview_points(uow, customer_id, as_of=as_of)
            figures = _previewed(score, as_of=as_of, ruleset=uow.ruleset)
            documents = [policy_score_document(policy) for policy in score.policies]
        policy_nos = [document["policy_no"] for document in documents]
        stale = await uow.policies.stale_summaries(policy_nos)
        reconciled = await uow.policies.reconciliation_counts(policy_nos)
    return CustomerPoints.model_validate(
        {
            "customer_id": customer_id,
            **figures,
            "policies": [
                {**_with_stale(document, stale), "reconciliations": reconciled.get(document["policy_no"], 0)}
                for document in documents
            ],
        }
    )


def _previewed(score: CustomerScore, *, as_of: date, ruleset: Ruleset) -> dict[str, Any]:
    return {
        "as_of": as_of,
        "preview": True,
        "revision": None,
        "trigger": None,
        "ruleset_version": ruleset.version,
        "points": f"{score.points:.2f}",
        "standard_premium": f"{score.standard_premium:.2f}",
        "pending_points": f"{score.pending_points:.2f}",
        "serving_channel": score.serving_channel.value if score.serving_channel else None,
        "next_pending_date": score.next_pending_date,
        "legacy_standard_premium_before_cutover": _money(score.legacy_standard_premium_before_cutover),
    }


def _stored(stored: StoredCustomer) -> dict[str, Any]:
    return {
        "as_of": stored.scored_as_of,
        "preview": False,
        "revision": stored.revision,
        "trigger": stored.trigger,
        "ruleset_version": stored.ruleset_version,
        "points": f"{stored.points:.2f}",
        "standard_premium": f"{stored.standard_premium:.2f}",
        "pending_points": f"{stored.pending_points:.2f}",
        "serving_channel": stored.serving_channel,
        "next_pending_date": stored.next_pending_date,
        "legacy_standard_premium_before_cutover": _money(stored.legacy_standard_premium_before_cutover),
    }


def _money(amount: Decimal | None) -> str | None:
    return f"{amount:.2f}" if amount is not None else None


def _with_stale(document: Mapping[str, Any], stale: Mapping[str, StaleSummary]) -> dict[str, Any]:
    summary = stale.get(document["policy_no"])
    return {
        **document,
        "stale_events_ignored": summary.count if summary else 0,
        "last_stale_version": summary.last_version if summary else None,
    }

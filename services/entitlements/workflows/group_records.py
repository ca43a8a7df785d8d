"""The group program's HTTP commands in entitlements: recording a service (附件三-六), resolving a
consultation or complaint, and reporting the client's feedback to tiering (rules.md section 9).

Each runs in one transaction under the client's lock: the yearly count read under it is exact, and
the feedback's per-client revision rises by one with each report. The feedback event is written to
the outbox in the same transaction as the record, so tiering sees every complaint and survey once.
"""

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from services.entitlements import mapping
from services.entitlements.domain.group_clients import GroupClient
from services.entitlements.domain.group_records import NewRecord, check_resolution, feedback_of
from services.entitlements.domain.group_services import (
    Allowance,
    allowances,
    check_quota,
    quota_of,
    service_to_record,
)
from services.entitlements.repositories import EntitlementsUnitOfWork
from shared.refusals import Conflict, Invalid, NotFound

FEEDBACK_KINDS = frozenset({"complaint", "survey"})


@dataclass(frozen=True, kw_only=True)
class Recorded:
    record_id: int
    service_code: str
    quota: int | None
    used: int

    @property
    def remaining(self) -> int | None:
        return None if self.quota is None else max(self.quota - self.used, 0)


async def known_client(uow: EntitlementsUnitOfWork, client_id: str) -> GroupClient:
    """A client seen in a level decision or a change of manager; otherwise 404."""
    client = await uow.group_clients.get(client_id)
    if client is None:
        raise NotFound(f"no group client {client_id} is known to the group program", reason="unknown_group_client")
    return client


async def services_of(uow: EntitlementsUnitOfWork, client: GroupClient, *, year: int) -> list[Allowance]:
    used = await uow.group_records.used_in_year(client.client_id, year)
    return allowances(level=client.level, used=used, ruleset=uow.group_ruleset)


async def record(
    uow: EntitlementsUnitOfWork, *, record_kind_code: str | None, new: NewRecord, cost: Decimal | None, now: datetime
) -> Recorded:
    """Record one service for the client. `record_kind_code` None: the code the ruleset maps the
    record's kind to (`records`); a generic delivery names its code. `cost` None: the unit cost."""
    await uow.group_clients.lock([new.client_id])
    client = await known_client(uow, new.client_id)
    code = record_kind_code or uow.group_ruleset.records[new.kind]  # type: ignore[index]
    service = service_to_record(code=code, level=client.level, ruleset=uow.group_ruleset)
    if new.received_at is not None:
        check_resolution(received_at=new.received_at, resolved_at=new.resolved_at)
    year = new.occurred_on.year
    used = (await uow.group_records.used_in_year(client.client_id, year)).get(service.code, 0)
    check_quota(service=service, level=client.level, used_this_year=used, year=year)
    stored = replace(new, service_code=service.code, cost=service.unit_cost if cost is None else cost)
    manager_id = client.manager.agent_id if client.manager else None
    record_id = await uow.group_records.add(stored, level=client.level, branch=client.branch, manager_id=manager_id)
    if new.kind in FEEDBACK_KINDS:
        await _report_feedback(uow, client, now=now)
    quota = quota_of(service, client.level)
    return Recorded(record_id=record_id, service_code=service.code, quota=quota, used=used + 1)


async def resolve(
    uow: EntitlementsUnitOfWork,
    *,
    client_id: str,
    record_id: int,
    resolved_at: datetime,
    outcome: str,
    verified: bool,
    now: datetime,
) -> dict[str, object]:
    """Resolve a consultation or complaint (and say whether a complaint was verified); once only."""
    await uow.group_clients.lock([client_id])
    client = await known_client(uow, client_id)
    stored = await uow.group_records.get(client_id, record_id)
    if stored is None or stored["kind"] not in ("consultation", "complaint"):
        raise NotFound(f"no consultation or complaint {record_id} of {client_id}", reason="unknown_record")
    if stored["resolved_at"] is not None:
        raise Conflict(f"record {record_id} was resolved at {stored['resolved_at'].isoformat()}", reason="resolved")
    check_resolution(received_at=stored["received_at"], resolved_at=resolved_at)
    if resolved_at > now:
        raise Invalid("a resolution cannot be dated in the future", reason="resolved_in_future")
    details = {**stored["details"], "outcome": outcome}
    await uow.group_records.resolve(record_id, resolved_at=resolved_at, verified=verified, details=details)
    if stored["kind"] == "complaint":
        await _report_feedback(uow, client, now=now)
    return {**stored, "resolved_at": resolved_at, "verified": verified, "details": details}


async def _report_feedback(uow: EntitlementsUnitOfWork, client: GroupClient, *, now: datetime) -> None:
    """The full feedback as of today, at the client's next feedback revision."""
    complaints, surveys = await uow.group_records.feedback_rows(client.client_id)
    today: date = now.astimezone(uow.group_ruleset.zone).date()
    feedback = feedback_of(complaints=complaints, surveys=surveys, as_of=today)
    current = await uow.group_clients.get(client.client_id) or client
    reported = replace(current, feedback_revision=current.feedback_revision + 1)
    uow.group_clients.save_client(reported)
    uow.publish([
        mapping.feedback_reported(
            client.client_id, feedback, revision=reported.feedback_revision, at=now, request_id=uuid.uuid4().hex
        )
    ])

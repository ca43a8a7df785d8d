"""A group client's state in tiering: what scoring and entitlements said of it, its last evaluation,
its designation in force, and the level last published (rules.md section 9). A frozen value: the
workflows derive the next state with `dataclasses.replace`; the repository stores it as one row.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from services.tiering.domain.group import Approval, ClientFacts, ExperiencePeriod, Feedback

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class GroupClientState:
    """One row of `group_clients` (every column but `updated_at`, which the database keeps)."""

    client_id: str
    scored_revision: int = 0
    branch: str | None = None
    client_since: date | None = None
    annual_standard_premium: Decimal = ZERO
    in_force_policies: int = 0
    experience: tuple[ExperiencePeriod, ...] = field(default=())
    feedback_revision: int = 0
    verified_complaints: int = 0
    survey_average: Decimal | None = None
    survey_on: date | None = None
    evaluated_level: str | None = None
    score: Decimal = ZERO
    scale: Decimal = ZERO
    loyalty: Decimal = ZERO
    profit: Decimal = ZERO
    evaluated_on: date | None = None
    approved_level: str | None = None
    approved_expires_on: date | None = None
    approved_application: str | None = None
    level: str | None = None
    reason: str = "not evaluated yet"
    revision: int = 0

    @property
    def known(self) -> bool:
        """Scoring has described the client (a client only heard of through feedback is not)."""
        return self.scored_revision > 0

    @property
    def facts(self) -> ClientFacts:
        return ClientFacts(
            client_id=self.client_id,
            client_since=self.client_since,
            annual_standard_premium=self.annual_standard_premium,
            in_force_policies=self.in_force_policies,
            experience=self.experience,
            feedback=Feedback(
                verified_complaints_12_months=self.verified_complaints,
                last_survey_average=self.survey_average,
                last_survey_on=self.survey_on,
            ),
        )

    @property
    def approval(self) -> Approval | None:
        if self.approved_level is None or self.approved_application is None:
            return None
        return Approval(
            level=self.approved_level, expires_on=self.approved_expires_on, application_id=self.approved_application
        )

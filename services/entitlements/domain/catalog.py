"""The catalog of rules.md section 6: the services a customer may be entitled to.

A service is a catalog row (from the ruleset, in the order of rules.md's table) or a branch's
featured service, which belongs to the branch that registered it.
"""

from dataclasses import dataclass
from typing import Literal

from shared.events.values import Tier
from shared.ruleset import Ruleset

Category = Literal["basic", "value_added"]


@dataclass(frozen=True, kw_only=True)
class Service:
    """A service a customer may be entitled to: a catalog row, or a branch's featured service.

    `branch` is None for the catalog; a featured service belongs to the branch that registered it
    and is shown only to that branch's VIPs.
    """

    code: str
    name: str
    category: Category
    tiers: frozenset[Tier]
    yearly_quota: int | None
    branch: str | None = None

    @property
    def featured(self) -> bool:
        return self.branch is not None


def catalog_from(ruleset: Ruleset) -> tuple[Service, ...]:
    """The ruleset's catalog in its file order (the order of rules.md's table)."""
    return tuple(
        Service(
            code=definition.code,
            name=definition.name,
            category=definition.category,
            tiers=definition.tiers,
            yearly_quota=definition.yearly_quota,
        )
        for definition in ruleset.services
    )

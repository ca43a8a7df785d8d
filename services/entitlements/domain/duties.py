"""Who may do what (rules.md section 6; issue 12 items 7 and 8). Pure: each check raises a refusal.

- **Separation of duties.** A branch contract or a featured service is decided by someone other than
  the user who proposed it: a token holding both `branch_ops` and `hq_customer_service` cannot
  approve its own proposal. The database holds the same rule (a CHECK on `decided_by`), so no path
  around this module can break it.
- **Branch scope.** A token may carry a branch (`token=role@GD-SZ`); such a user acts only for that
  branch, and never for HQ (a contract without a branch). A token without a branch acts for all.
- **Reversals.** A reversal states its reason, is done by someone other than the user who redeemed
  (nobody gives themselves a unit back), and only within `redemption_reversal_days` of the day of the
  redemption, that day included; after it the use stands and the cost is borne.
"""

from datetime import date

from shared.refusals import Conflict, Forbidden, Invalid
from shared.ruleset import Ruleset


def check_acts_for(*, acting_for: str | None, branch: str | None, what: str) -> None:
    """`acting_for` is the token's branch (None: every branch); `branch` None is HQ."""
    if acting_for is None or acting_for == branch:
        return
    target = f"branch {branch}" if branch is not None else "HQ"
    raise Forbidden(
        f"this token acts only for branch {acting_for}: it cannot act on {what} of {target}",
        reason="other_branch",
    )


def check_decider(*, proposed_by: str, decided_by: str, what: str) -> None:
    if proposed_by == decided_by:
        raise Forbidden(
            f"{what} was proposed by this user: someone else must decide it (separation of duties)",
            reason="separation_of_duties",
        )


def check_reversal(
    *,
    redeemed_on: date,
    redeemed_by: str,
    reversed_by: str,
    reason: str | None,
    as_of: date,
    ruleset: Ruleset,
) -> None:
    """Raises `Invalid` without a reason, `Forbidden` for one's own use, `Conflict` after the window."""
    if reason is None or not reason.strip():
        raise Invalid("a reversal needs a reason (no-show, error, ...)", reason="reason_required")
    if redeemed_by == reversed_by:
        raise Forbidden(
            "a redemption is reversed by someone other than the user who made it", reason="own_redemption"
        )
    window = ruleset.redemption_reversal_days
    if (as_of - redeemed_on).days > window:
        raise Conflict(
            f"the redemption of {redeemed_on.isoformat()} is past the {window}-day reversal window "
            f"(last day {date.fromordinal(redeemed_on.toordinal() + window).isoformat()})",
            reason="reversal_window_passed",
        )

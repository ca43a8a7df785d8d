"""Honorary VIP applications, rules.md section 5, case by case: filing, the five-step chain in its
fixed order, one user per step, rejection, revocation, expiry and supersession; plus properties of
the chain under any sequence of attempts."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.tiering.domain.grants import expiry_due, revoke, superseded, with_ending
from services.tiering.domain.honorary import (
    APPROVER_ROLES,
    CHAIN,
    Application,
    EndingKind,
    Filing,
    State,
    Step,
    Verdict,
    check_filing,
    decide,
    grants,
    with_decision,
)
from shared.events.values import Tier
from shared.refusals import Conflict, Forbidden, Invalid, Refused

TODAY = date(2026, 6, 1)
AT = datetime(2026, 6, 1, 2, tzinfo=UTC)


def application(*, expires_on: date | None = None, tier: Tier = Tier.PLATINUM) -> Application:
    return Application(
        id="HA1",
        customer_id="C1",
        tier=tier,
        reason="provincial people's congress deputy",
        expires_on=expires_on,
        filed_by="applicant",
        filed_at=AT,
    )


def step_user(step: Step) -> str:
    return f"user-{step.value}"


def decided(
    app: Application, step: Step, verdict: Verdict = Verdict.APPROVE, *, user: str | None = None
) -> Application:
    decision = decide(
        app,
        user_id=user or step_user(step),
        roles=frozenset({step.role}),
        verdict=verdict,
        comment="ok" if verdict is Verdict.APPROVE else "not prominent enough",
        expected_step=None,
        as_of=TODAY,
        decided_at=AT,
    )
    return with_decision(app, decision)


def approved_through(app: Application, steps: tuple[Step, ...]) -> Application:
    for step in steps:
        app = decided(app, step)
    return app


# --- filing --------------------------------------------------------------------------------------


def file(**overrides: object) -> Filing:
    arguments: dict[str, object] = {
        "customer_id": "C1",
        "tier": "diamond",
        "reason": "  academician  ",
        "expires_on": date(2027, 6, 1),
        "as_of": TODAY,
        "open_application_id": None,
    }
    arguments.update(overrides)
    return check_filing(**arguments)  # type: ignore[arg-type]


def test_a_valid_filing_keeps_customer_tier_reason_and_expiry() -> None:
    filing = file()
    assert (filing.customer_id, filing.tier, filing.reason, filing.expires_on) == (
        "C1",
        Tier.DIAMOND,
        "academician",
        date(2027, 6, 1),
    )


def test_a_filing_without_expiry_is_valid() -> None:
    assert file(expires_on=None).expires_on is None


@pytest.mark.parametrize(
    ("overrides", "refusal", "names"),
    [
        ({"tier": "silver"}, Invalid, "unknown tier 'silver'"),
        ({"tier": "Gold"}, Invalid, "unknown tier 'Gold'"),
        ({"reason": None}, Invalid, "reason is required"),
        ({"reason": ""}, Invalid, "reason is required"),
        ({"reason": "   "}, Invalid, "reason is required"),
        ({"expires_on": date(2026, 5, 31)}, Invalid, "expires_on 2026-05-31 is not after today (2026-06-01)"),
        ({"expires_on": TODAY}, Invalid, "is not after today"),
        ({"open_application_id": "HA0"}, Conflict, "already has an open honorary application HA0"),
    ],
    ids=[
        "unknown tier",
        "tier is case-sensitive",
        "no reason",
        "empty reason",
        "blank reason",
        "expiry in the past",
        "expiry today",
        "second open application",
    ],
)
def test_a_filing_is_refused_naming_the_problem(
    overrides: dict[str, object], refusal: type[Refused], names: str
) -> None:
    with pytest.raises(refusal, match=names.replace("(", r"\(").replace(")", r"\)")):
        file(**overrides)


def test_tomorrow_is_the_earliest_expiry() -> None:
    assert file(expires_on=TODAY + timedelta(days=1)).expires_on == date(2026, 6, 2)


# --- the chain -----------------------------------------------------------------------------------


def test_the_chain_is_the_five_steps_of_rules_md_in_order() -> None:
    assert [step.value for step in CHAIN] == [
        "branch_ops",
        "branch_gm",
        "hq_business",
        "hq_customer_service",
        "hq_executive",
    ]
    assert [step.number for step in CHAIN] == [1, 2, 3, 4, 5]
    assert tuple(step.value for step in CHAIN) == APPROVER_ROLES


def test_a_new_application_is_pending_at_branch_ops() -> None:
    app = application()
    assert (app.state, app.next_step) == (State.PENDING, Step.BRANCH_OPS)


@pytest.mark.parametrize("done", range(len(CHAIN)))
def test_each_approval_moves_to_the_next_step(done: int) -> None:
    app = approved_through(application(), CHAIN[:done])
    assert (app.state, app.next_step) == (State.PENDING, CHAIN[done])
    assert not grants(app)


def test_five_approvals_grant_the_tier() -> None:
    app = approved_through(application(), CHAIN)
    assert (app.state, app.next_step, grants(app)) == (State.APPROVED, None, True)
    assert [(d.step, d.decided_by, d.verdict) for d in app.decisions] == [
        (step, step_user(step), Verdict.APPROVE) for step in CHAIN
    ]


@pytest.mark.parametrize("waiting", CHAIN)
@pytest.mark.parametrize("role", (*APPROVER_ROLES, "ops", "honorary_applicant", "admin"))
def test_only_the_role_of_the_waiting_step_decides(waiting: Step, role: str) -> None:
    app = approved_through(application(), CHAIN[: waiting.number - 1])
    attempt = {
        "user_id": "someone-else",
        "roles": frozenset({role}),
        "verdict": Verdict.APPROVE,
        "comment": None,
        "expected_step": None,
        "as_of": TODAY,
        "decided_at": AT,
    }
    if role == waiting.role:
        assert decide(app, **attempt).step is waiting  # type: ignore[arg-type]
    else:
        with pytest.raises(Forbidden, match=f"waits for step {waiting.number} of 5 .*needs the role {waiting.role}"):
            decide(app, **attempt)  # type: ignore[arg-type]


def test_one_user_may_not_decide_two_steps_even_holding_both_roles() -> None:
    app = decided(application(), Step.BRANCH_OPS, user="both")
    with pytest.raises(Forbidden, match=r"already decided step 1 \(branch_ops\).*one person may not decide two steps"):
        decide(
            app,
            user_id="both",
            roles=frozenset(APPROVER_ROLES),
            verdict=Verdict.APPROVE,
            comment=None,
            expected_step=None,
            as_of=TODAY,
            decided_at=AT,
        )


def test_the_applicant_may_not_decide_their_own_application() -> None:
    with pytest.raises(Forbidden, match="filed application HA1"):
        decide(
            application(),
            user_id="applicant",
            roles=frozenset({"branch_ops"}),
            verdict=Verdict.APPROVE,
            comment=None,
            expected_step=None,
            as_of=TODAY,
            decided_at=AT,
        )


def test_a_decision_naming_another_step_is_out_of_turn() -> None:
    app = decided(application(), Step.BRANCH_OPS)
    out_of_turn = "out of turn: application HA1 waits for step 2 of 5 \\(branch_gm\\), not hq_executive"
    with pytest.raises(Conflict, match=out_of_turn):
        decide(
            app,
            user_id="exec",
            roles=frozenset({"hq_executive"}),
            verdict=Verdict.APPROVE,
            comment=None,
            expected_step=Step.HQ_EXECUTIVE,
            as_of=TODAY,
            decided_at=AT,
        )


def test_naming_the_waiting_step_is_accepted() -> None:
    app = decided(application(), Step.BRANCH_OPS)
    decision = decide(
        app,
        user_id="gm",
        roles=frozenset({"branch_gm"}),
        verdict=Verdict.APPROVE,
        comment="  ",
        expected_step=Step.BRANCH_GM,
        as_of=TODAY,
        decided_at=AT,
    )
    assert (decision.step, decision.comment) == (Step.BRANCH_GM, None)


@pytest.mark.parametrize("at_step", CHAIN)
def test_a_rejection_at_any_step_ends_the_application(at_step: Step) -> None:
    app = approved_through(application(), CHAIN[: at_step.number - 1])
    app = decided(app, at_step, Verdict.REJECT)
    assert (app.state, app.next_step, grants(app)) == (State.REJECTED, None, False)
    assert len(app.decisions) == at_step.number
    later = CHAIN[at_step.number] if at_step.number < len(CHAIN) else Step.HQ_EXECUTIVE
    with pytest.raises(Conflict, match="application HA1 is rejected: it takes no more decisions"):
        decide(
            app,
            user_id="late",
            roles=frozenset({later.role}),
            verdict=Verdict.APPROVE,
            comment=None,
            expected_step=None,
            as_of=TODAY,
            decided_at=AT,
        )


def test_a_rejection_needs_a_comment() -> None:
    with pytest.raises(Invalid, match="a rejection needs a comment"):
        decide(
            application(),
            user_id="ops1",
            roles=frozenset({"branch_ops"}),
            verdict=Verdict.REJECT,
            comment=" ",
            expected_step=None,
            as_of=TODAY,
            decided_at=AT,
        )


def test_a_granted_application_takes_no_more_decisions() -> None:
    app = approved_through(application(), CHAIN)
    with pytest.raises(Conflict, match="is approved: it takes no more decisions"):
        decide(
            app,
            user_id="x",
            roles=frozenset(APPROVER_ROLES),
            verdict=Verdict.REJECT,
            comment="no",
            expected_step=None,
            as_of=TODAY,
            decided_at=AT,
        )


def test_once_the_requested_expiry_has_come_the_application_can_only_be_rejected() -> None:
    app = decided(application(expires_on=date(2026, 7, 1)), Step.BRANCH_OPS)
    later = date(2026, 7, 1)
    with pytest.raises(Conflict, match="expiry 2026-07-01 is not after today \\(2026-07-01\\)"):
        decide(
            app,
            user_id="gm",
            roles=frozenset({"branch_gm"}),
            verdict=Verdict.APPROVE,
            comment=None,
            expected_step=None,
            as_of=later,
            decided_at=AT,
        )
    rejection = decide(
        app,
        user_id="gm",
        roles=frozenset({"branch_gm"}),
        verdict=Verdict.REJECT,
        comment="too late",
        expected_step=None,
        as_of=later,
        decided_at=AT,
    )
    assert with_decision(app, rejection).state is State.REJECTED


# --- after the grant -----------------------------------------------------------------------------


def test_revocation_ends_a_grant_and_is_recorded_with_who_and_why() -> None:
    ending = revoke(approved_through(application(), CHAIN), user_id="hqcs", comment=" misconduct ", as_of=TODAY, at=AT)
    assert (ending.kind, ending.ended_by, ending.comment, ending.effective_on) == (
        EndingKind.REVOKED,
        "hqcs",
        "misconduct",
        TODAY,
    )
    assert with_ending(approved_through(application(), CHAIN), ending).state is State.REVOKED


@pytest.mark.parametrize("done", range(len(CHAIN)))
def test_only_a_grant_in_force_can_be_revoked(done: int) -> None:
    with pytest.raises(Conflict, match="is pending: only a granted honorary status can be revoked"):
        revoke(approved_through(application(), CHAIN[:done]), user_id="hqcs", comment="x", as_of=TODAY, at=AT)


def test_a_revoked_grant_cannot_be_revoked_again() -> None:
    granted = approved_through(application(), CHAIN)
    revoked = with_ending(granted, revoke(granted, user_id="hqcs", comment="x", as_of=TODAY, at=AT))
    with pytest.raises(Conflict, match="is revoked"):
        revoke(revoked, user_id="hqcs", comment="again", as_of=TODAY, at=AT)


def test_a_revocation_needs_a_comment() -> None:
    with pytest.raises(Invalid, match="needs a comment"):
        revoke(approved_through(application(), CHAIN), user_id="hqcs", comment=None, as_of=TODAY, at=AT)


@pytest.mark.parametrize(
    ("as_of", "expires"),
    [(date(2026, 12, 30), False), (date(2026, 12, 31), True), (date(2027, 1, 5), True)],
    ids=["day before expiry", "on the expiry date", "after it (a missed daily run)"],
)
def test_a_grant_expires_on_its_expiry_date(as_of: date, expires: bool) -> None:
    granted = approved_through(application(expires_on=date(2026, 12, 31)), CHAIN)
    ending = expiry_due(granted, as_of=as_of, at=AT)
    assert (ending is not None) is expires
    if ending is not None:
        expected = (EndingKind.EXPIRED, "daily_run", date(2026, 12, 31))
        assert (ending.kind, ending.ended_by, ending.effective_on) == expected
        assert with_ending(granted, ending).state is State.EXPIRED


def test_a_grant_without_expiry_never_expires() -> None:
    assert expiry_due(approved_through(application(), CHAIN), as_of=date(2099, 1, 1), at=AT) is None


def test_a_pending_application_does_not_expire() -> None:
    assert expiry_due(application(expires_on=date(2026, 12, 31)), as_of=date(2027, 1, 1), at=AT) is None


def test_a_later_grant_supersedes_the_one_in_force() -> None:
    granted = approved_through(application(), CHAIN)
    ending = superseded(granted, by="HA2", as_of=TODAY, at=AT)
    assert ending is not None
    assert (ending.kind, ending.ended_by) == (EndingKind.SUPERSEDED, "HA2")
    assert with_ending(granted, ending).state is State.SUPERSEDED
    assert superseded(with_ending(granted, ending), by="HA3", as_of=TODAY, at=AT) is None


# --- properties ----------------------------------------------------------------------------------

attempts = st.lists(
    st.tuples(
        st.sampled_from(["u1", "u2", "u3", "u4", "u5", "u6", "applicant"]),
        st.frozensets(st.sampled_from(APPROVER_ROLES), min_size=1, max_size=5),
        st.sampled_from(list(Verdict)),
    ),
    max_size=15,
)


@settings(max_examples=300, deadline=None)
@given(attempts)
def test_any_sequence_of_attempts_keeps_the_chain_sound(sequence: list[tuple[str, frozenset[str], Verdict]]) -> None:
    app = application()
    for user, roles, verdict in sequence:
        try:
            decision = decide(
                app,
                user_id=user,
                roles=roles,
                verdict=verdict,
                comment="c",
                expected_step=None,
                as_of=TODAY,
                decided_at=AT,
            )
        except Refused:
            continue
        app = with_decision(app, decision)
    steps = [decision.step for decision in app.decisions]
    deciders = [decision.decided_by for decision in app.decisions]
    assert steps == list(CHAIN[: len(steps)]), "steps are decided in the fixed order"
    assert len(set(deciders)) == len(deciders), "no user decided two steps"
    assert "applicant" not in deciders
    assert all(decision.verdict is Verdict.APPROVE for decision in app.decisions[:-1]), "nothing after a rejection"
    granted = len(steps) == len(CHAIN) and all(decision.verdict is Verdict.APPROVE for decision in app.decisions)
    assert grants(app) is granted

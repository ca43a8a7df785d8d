"""The events the fault tests publish: realistic, reproducible, and with an order-independent outcome.

Customers hold one to three policies; each policy starts with `new_business` and may then see
premium increases, account-value updates, loans, partial surrenders, a surrender or a lapse, each
a new version carrying the full state. Premiums spread customers over every tier and below.

All of a customer's policies hash to the same partition of `pas.policy-events` (the key is the
policy number, the partition is murmur2(key) mod 8, as the producer computes it). One customer's
events are therefore applied in the order they were published in every run, with or without
faults, so the call-center answers of two runs can be compared customer by customer.

`VIP_FAULT_EVENTS` sets the number of policy events (the issue asks for 20,000; CI runs fewer).
"""

import os
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from aiokafka.partitioner import murmur2

PARTITIONS = 8
DEFAULT_EVENTS = 3_000
AGENTS = 24
BRANCHES = ("GD-SZ", "GD-GZ", "BJ-HD", "SH-PD")
CHANNELS = ("agency", "bancassurance", "brokerage", "ecommerce")


def events_from_env(default: int = DEFAULT_EVENTS) -> int:
    return int(os.environ.get("VIP_FAULT_EVENTS", default))


def partition_of(key: str) -> int:
    return int(murmur2(key.encode()) & 0x7FFFFFFF) % PARTITIONS


@dataclass(frozen=True)
class Message:
    key: str
    value: bytes
    event_id: str | None
    customer_id: str | None


@dataclass(frozen=True)
class Workload:
    agents: tuple[Message, ...]
    policy_events: tuple[Message, ...]
    customers: tuple[str, ...]

    @property
    def event_ids(self) -> list[str]:
        return [message.event_id for message in self.policy_events if message.event_id]


def _agent(index: int) -> Message:
    agent_id = f"A{index:05d}"
    event = {
        "event_id": f"fault-agent-{index}", "event_type": "agent_upserted",
        "occurred_at": "2026-01-05T09:00:00+08:00",
        "agent": {
            "agent_id": agent_id, "name": f"Agent {index}", "channel": CHANNELS[index % len(CHANNELS)],
            "branch": BRANCHES[index % len(BRANCHES)], "role": "agent", "top_performer": index % 5 == 0,
            "eligible": True,
        },
    }
    return Message(agent_id, orjson.dumps(event), event["event_id"], None)  # type: ignore[arg-type]


def _policy_numbers(customer_id: str, count: int) -> list[str]:
    """`count` policy numbers of the customer, all on the partition of the first."""
    numbers = [f"P{customer_id}-0"]
    wanted = partition_of(numbers[0])
    candidate = 1
    while len(numbers) < count:
        number = f"P{customer_id}-{candidate}"
        if partition_of(number) == wanted:
            numbers.append(number)
        candidate += 1
    return numbers


class _Policy:
    def __init__(self, *, policy_no: str, holder_id: str, rng: random.Random) -> None:
        modes = [("annual", 1), ("semiannual", 2), ("quarterly", 4), ("monthly", 12)]
        self.mode, self.per_year = rng.choice(modes)
        self.version = 0
        self.state: dict[str, Any] = {
            "policy_no": policy_no, "version": 0, "holder_id": holder_id,
            "channel": rng.choice(CHANNELS), "branch": rng.choice(BRANCHES),
            "agent_id": f"A{rng.randrange(AGENTS):05d}", "status": "in_force", "issued_on": "2026-09-01",
            "cooling_off_ends_on": "2026-09-16", "product_type": rng.choice(["participating", "traditional"]),
            "payment_term_years": rng.choice([5, 10, 20]), "payment_mode": self.mode,
            "modal_premium": self._modal(rng.choice([8_000, 20_000, 36_000, 90_000, 160_000, 320_000])),
            "account_value": "0.00", "annuity_converted_premium": "0.00", "premium_waived": False,
            "paid_up": False, "loan_outstanding": "0.00",
        }

    def _modal(self, annual: float) -> str:
        return f"{annual / self.per_year:.2f}"

    def change(self, event_type: str, rng: random.Random) -> dict[str, Any]:
        state = self.state
        if event_type == "additional_premium":
            state["modal_premium"] = f"{float(state['modal_premium']) * rng.choice([1.5, 2.0, 3.0]):.2f}"
        elif event_type == "account_value_update":
            state["account_value"] = f"{rng.randrange(0, 500_000)}.00"
        elif event_type == "policy_loan":
            state["loan_outstanding"] = f"{rng.randrange(1_000, 50_000)}.00"
        elif event_type == "loan_repaid":
            state["loan_outstanding"] = "0.00"
        elif event_type == "partial_surrender":
            state["modal_premium"] = f"{float(state['modal_premium']) / 2:.2f}"
        elif event_type == "surrender":
            state["status"] = "surrendered"
        elif event_type == "lapse":
            state["status"] = "lapsed"
        self.version += 1
        state["version"] = self.version
        return dict(state)


_UPDATES = ("additional_premium", "account_value_update", "policy_loan", "loan_repaid", "partial_surrender",
            "beneficiary_change")
_ENDINGS = ("surrender", "lapse")


def build_workload(events: int, *, run: str = "F", seed: int = 20_000) -> Workload:
    """About `events` policy events (exactly that many), customers interleaved as they would arrive."""
    rng = random.Random(seed)
    streams: list[list[tuple[str, dict[str, Any]]]] = []
    customers: list[str] = []
    total = 0
    index = 0
    while total < events:
        customer_id = f"{run}C{index:06d}"
        index += 1
        customers.append(customer_id)
        stream: list[tuple[str, dict[str, Any]]] = []
        for policy_no in _policy_numbers(customer_id, rng.choice([1, 1, 2, 2, 3])):
            policy = _Policy(policy_no=policy_no, holder_id=customer_id, rng=rng)
            stream.append(("new_business", policy.change("new_business", rng)))
            for _ in range(rng.choice([0, 0, 1, 2, 3])):
                update = rng.choice(_UPDATES)
                stream.append((update, policy.change(update, rng)))
            if rng.random() < 0.15:
                ending = rng.choice(_ENDINGS)
                stream.append((ending, policy.change(ending, rng)))
        stream = stream[: events - total]
        total += len(stream)
        streams.append(stream)
    return Workload(
        agents=tuple(_agent(i) for i in range(AGENTS)),
        policy_events=tuple(_interleave(streams, rng=rng, run=run)),
        customers=tuple(customers),
    )


def _interleave(streams: list[list[tuple[str, dict[str, Any]]]], *, rng: random.Random, run: str) -> Iterator[Message]:
    """Customers' streams merged at random, each stream kept in order."""
    positions = [0] * len(streams)
    live = [i for i, stream in enumerate(streams) if stream]
    sequence = 0
    minute = 0
    while live:
        slot = rng.randrange(len(live))
        which = live[slot]
        event_type, state = streams[which][positions[which]]
        positions[which] += 1
        if positions[which] == len(streams[which]):
            live[slot] = live[-1]
            live.pop()
        sequence += 1
        minute = sequence // 20
        event_id = f"fault-{run}-{sequence:07d}"
        event = {
            "event_id": event_id, "event_type": event_type,
            "occurred_at": f"2026-09-2{minute // 1440 % 8}T{minute // 60 % 24:02d}:{minute % 60:02d}:00+08:00",
            "previous_holder_id": None, "policy": state,
        }
        yield Message(state["policy_no"], orjson.dumps(event), event_id, state["holder_id"])

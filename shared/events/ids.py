"""Deterministic ids for the events a service publishes.

An output event's id is derived from what caused it, so reprocessing the same input (after a crash,
or a rebuild from the topics) produces the same ids and downstream inboxes recognise the repeats.
"""

from uuid import UUID, uuid5

_NAMESPACE = UUID("5b0f6d1e-7f7e-4a52-9a8e-6c1f3d1b2a90")


def derive_event_id(*parts: str | int) -> str:
    return str(uuid5(_NAMESPACE, "/".join(str(part) for part in parts)))

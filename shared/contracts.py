"""The event contracts as machine-readable documents: `docs/asyncapi.yaml` (AsyncAPI 3) and one JSON
Schema per event in `docs/schemas/`, generated from the pydantic event models.

    python -m shared.contracts           # rewrite the documents
    python -m shared.contracts --check   # exit 1 when they are stale (the test does the same)

The models are the contract (`shared/events/`); these files are what producers on other teams
(policy admin, HR, CRM) and other consumers read. Every message carries an example, built from the
schema and validated by the model, so an example can never contradict the contract. Each channel
carries its topic configuration as a Kafka binding (`shared.topic_config`).
"""

import json
import sys
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel

from shared import topics
from shared.events.group import AccountManagerChanged, GroupClientScored, GroupFeedbackReported, GroupLevelDecided
from shared.events.inbound import AgentEvent, CustomerEvent, PolicyChanged
from shared.events.internal import CustomerScored, RepresentativeChanged, TierDecided
from shared.examples import sample
from shared.topic_config import topic_config_for

ROOT = Path(__file__).resolve().parent.parent
ASYNCAPI_PATH = ROOT / "docs" / "asyncapi.yaml"
SCHEMAS_DIR = ROOT / "docs" / "schemas"

Models = tuple[type[BaseModel], ...]


def _members(union: Any) -> Models:
    """The models of an `Annotated[A | B, Field(discriminator=...)]` union."""
    return tuple(get_args(get_args(union)[0]))


# topic -> (the models its messages follow, the message key, who produces, who consumes)
TOPICS: dict[str, tuple[Models, str, str, str]] = {
    topics.POLICY_EVENTS: ((PolicyChanged,), "policy_no", "core policy admin system", "scoring"),
    topics.AGENT_EVENTS: (_members(AgentEvent), "agent_id", "HR / agency systems", "assignment"),
    topics.CUSTOMER_EVENTS: (_members(CustomerEvent), "customer_id (client_id for group events)", "CRM",
                             "scoring, tiering, assignment, entitlements"),
    topics.CUSTOMER_SCORES: ((CustomerScored,), "customer_id", "scoring", "tiering"),
    topics.TIER_DECISIONS: ((TierDecided,), "customer_id", "tiering", "assignment, entitlements"),
    topics.REPRESENTATIVES: ((RepresentativeChanged,), "customer_id", "assignment", "entitlements"),
    topics.GROUP_CLIENTS: ((GroupClientScored,), "client_id", "scoring", "tiering"),
    topics.GROUP_LEVELS: ((GroupLevelDecided,), "client_id", "tiering", "assignment, entitlements"),
    topics.ACCOUNT_MANAGERS: ((AccountManagerChanged,), "client_id", "assignment", "entitlements"),
    topics.GROUP_FEEDBACK: ((GroupFeedbackReported,), "client_id", "entitlements", "tiering"),
}

def example_of(model: type[BaseModel]) -> dict[str, Any]:
    """An example message of `model`, as it travels (JSON), validated by the model itself."""
    schema = model.model_json_schema(mode="validation")
    payload = sample(schema, schema.get("$defs", {}))
    example: dict[str, Any] = json.loads(model.model_validate(payload).model_dump_json())
    return example


def event_schemas() -> dict[str, dict[str, Any]]:
    """One standalone JSON Schema (draft 2020-12) per event model, by model name."""
    found: dict[str, dict[str, Any]] = {}
    for models, *_ in TOPICS.values():
        for model in models:
            schema = model.model_json_schema(mode="validation")
            found[model.__name__] = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
    return found


def _channel_id(topic: str) -> str:
    return "".join(part.capitalize() if index else part for index, part in enumerate(
        topic.replace(".v1", "").replace("-", ".").split(".")
    ))


def _kafka_binding(topic: str) -> dict[str, Any]:
    config = topic_config_for(topic)
    settings = config.configs
    return {"kafka": {
        "topic": topic, "partitions": config.partitions, "replicas": config.replication_factor,
        "topicConfiguration": {
            "cleanup.policy": [settings["cleanup.policy"]], "retention.ms": int(settings["retention.ms"]),
        },
        "bindingVersion": "0.5.0",
    }}


def asyncapi() -> dict[str, Any]:
    """The AsyncAPI 3 document of every data topic (dead-letter topics carry the original bytes)."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for topic, (models, key, producer, consumers) in TOPICS.items():
        channel = _channel_id(topic)
        inbound = topic in topics.INBOUND_TOPICS
        channel_messages = {}
        for model in models:
            schema = model.model_json_schema(mode="validation", ref_template="#/components/schemas/{model}")
            for name, definition in schema.pop("$defs", {}).items():
                if schemas.setdefault(name, definition) != definition:
                    raise ValueError(f"two different schemas named {name}")
            schemas[model.__name__] = schema
            messages[model.__name__] = {
                "name": model.__name__, "title": model.__name__, "contentType": "application/json",
                "summary": " ".join((model.__doc__ or model.__name__).split()),
                "payload": {"$ref": f"#/components/schemas/{model.__name__}"},
                "bindings": {"kafka": {"key": {"type": "string", "description": key}, "bindingVersion": "0.5.0"}},
                "examples": [{"name": model.__name__, "payload": example_of(model)}],
            }
            channel_messages[model.__name__] = {"$ref": f"#/components/messages/{model.__name__}"}
        channels[channel] = {
            "address": topic,
            "description": f"{'Inbound' if inbound else 'Internal'}: produced by {producer}; read by {consumers}. "
                           f"Keyed by {key}; dead letters on {topics.dead_letter_topic_for(topic)}.",
            "messages": channel_messages,
            "bindings": _kafka_binding(topic),
        }
        references = [{"$ref": f"#/channels/{channel}/messages/{name}"} for name in channel_messages]
        operations[f"receive{channel[0].upper()}{channel[1:]}"] = {
            "action": "receive", "channel": {"$ref": f"#/channels/{channel}"}, "messages": references,
            "summary": f"{consumers} read {topic}",
        }
        if not inbound:
            operations[f"send{channel[0].upper()}{channel[1:]}"] = {
                "action": "send", "channel": {"$ref": f"#/channels/{channel}"}, "messages": references,
                "summary": f"{producer} publishes {topic} through its outbox",
            }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "VIP platform events", "version": "1.0.0",
            "description": "Every topic the platform reads or writes. Generated by `python -m shared.contracts` "
                           "from the event models in shared/events/; do not edit by hand.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": dict(sorted(schemas.items()))},
    }


def documents() -> dict[Path, str]:
    """Every generated file and its text."""
    files = {ASYNCAPI_PATH: yaml.safe_dump(asyncapi(), sort_keys=False, allow_unicode=True, width=120)}
    for name, schema in event_schemas().items():
        files[SCHEMAS_DIR / f"{name}.json"] = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
    return files


def stale() -> list[Path]:
    """The generated files that differ from what the models say now (or are missing, or left over)."""
    files = documents()
    left_over = [path for path in SCHEMAS_DIR.glob("*.json") if path not in files] if SCHEMAS_DIR.exists() else []
    return [path for path, text in files.items() if not path.exists() or path.read_text() != text] + left_over


def main(argv: list[str]) -> int:
    if "--check" in argv:
        outdated = stale()
        for path in outdated:
            print(f"{path.relative_to(ROOT)} is stale: run python -m shared.contracts", file=sys.stderr)
        return 1 if outdated else 0
    SCHEMAS_DIR.mkdir(parents=True, exist_ok=True)
    for path in SCHEMAS_DIR.glob("*.json"):
        path.unlink()
    for path, text in documents().items():
        path.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

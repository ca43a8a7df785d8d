"""The machine-readable contracts published under docs/: the AsyncAPI document and JSON Schemas of the
events, and the settings table. Each is regenerated in-process and compared with the file, so a model
or a setting that changes without its document fails here (regenerate: `python -m shared.contracts`,
`python -m cli.settings_table`)."""

import json
from typing import Any

import jsonschema_rs
import pytest
import yaml
from pydantic import Field

from cli import settings_table
from shared import contracts
from shared.settings import ServiceSettings
from shared.topics import INBOUND_TOPICS, INTERNAL_TOPICS


def test_the_asyncapi_document_and_event_schemas_are_current() -> None:
    assert contracts.stale() == [], "docs/asyncapi.yaml or docs/schemas/ is stale: run python -m shared.contracts"


def test_the_asyncapi_document_covers_every_topic_with_an_example_per_message() -> None:
    document: dict[str, Any] = yaml.safe_load(contracts.ASYNCAPI_PATH.read_text())
    assert document["asyncapi"] == "3.0.0"
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == set(INBOUND_TOPICS + INTERNAL_TOPICS)
    for channel in document["channels"].values():
        for reference in channel["messages"].values():
            message = document["components"]["messages"][reference["$ref"].rsplit("/", 1)[-1]]
            assert message["examples"], f"{message['name']} has no example"
    received = {op["channel"]["$ref"] for op in document["operations"].values() if op["action"] == "receive"}
    assert len(received) == len(addresses)


@pytest.mark.parametrize("name", sorted(contracts.event_schemas()))
def test_each_example_follows_its_published_json_schema(name: str) -> None:
    schema = json.loads((contracts.SCHEMAS_DIR / f"{name}.json").read_text())
    document: dict[str, Any] = yaml.safe_load(contracts.ASYNCAPI_PATH.read_text())
    example = document["components"]["messages"][name]["examples"][0]["payload"]
    jsonschema_rs.validator_for(schema).validate(example)


def test_money_is_published_as_a_decimal_string_never_a_number() -> None:
    schema = json.loads((contracts.SCHEMAS_DIR / "PolicyChanged.json").read_text())
    premium = schema["$defs"]["PolicyState"]["properties"]["modal_premium"]
    assert premium["type"] == "string"
    validator = jsonschema_rs.validator_for(premium)
    assert validator.is_valid("36000.00")
    assert not validator.is_valid(36000)
    assert not validator.is_valid("3.6e4")


def test_the_settings_table_is_current() -> None:
    assert settings_table.SETTINGS_DOC.read_text() == settings_table.settings_table(), (
        "docs/settings.md is stale: run python -m cli.settings_table"
    )


def test_every_setting_is_in_the_table() -> None:
    table = settings_table.SETTINGS_DOC.read_text()
    for name in ServiceSettings.model_fields:
        assert f"| `VIP_{name.upper()}` |" in table


def test_a_setting_without_a_meaning_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    class Undocumented(ServiceSettings):
        shiny_new_knob: int = Field(default=3)

    monkeypatch.setattr(settings_table, "ServiceSettings", Undocumented)
    monkeypatch.setattr(settings_table, "SERVICES", {"scoring": Undocumented})
    with pytest.raises(ValueError, match="shiny_new_knob has no description"):
        settings_table.settings_table()

"""Examples made from a JSON Schema: a plausible value for every property, the first choice of every
union or enum. Used where a document needs an example for each schema (the AsyncAPI messages, the
OpenAPI components); the caller validates the result against the schema or the model."""

from collections.abc import Mapping
from typing import Any

_SAMPLE_STRINGS = {
    "customer_id": "C000981", "policy_no": "P2026000123", "agent_id": "A00412", "client_id": "G000017",
    "branch": "GD-SZ", "event_id": "ef3d271a-08f8-5948-afbb-48870cba24fe",
    "correlation_id": "37d831f4-e740-5a8a-bc0e-7d46cbc3045c", "name": "张伟", "ruleset_version": "2015.1",
    "holder_id": "C000981", "previous_holder_id": "C000880",
}
_SAMPLE_FORMATS = {"date": "2026-12-01", "date-time": "2026-12-01T09:00:00+08:00"}


def _resolve(schema: Mapping[str, Any], defs: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def sample(schema: Mapping[str, Any], defs: Mapping[str, Any], *, name: str = "") -> Any:
    """A plausible value of `schema`: every property filled, the first choice of every union or enum."""
    schema = _resolve(schema, defs)
    if schema.get("examples"):
        return schema["examples"][0]
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            choices = [choice for choice in schema[key] if _resolve(choice, defs).get("type") != "null"]
            return sample(choices[0] if choices else schema[key][0], defs, name=name)
    kind = schema.get("type")
    if kind == "object":
        return {key: sample(value, defs, name=key) for key, value in schema.get("properties", {}).items()}
    if kind == "array":
        return [sample(schema.get("items", {}), defs, name=name)]
    if kind == "boolean":
        return True
    if kind in ("integer", "number"):
        return max(int(schema.get("minimum", 1)), int(schema.get("exclusiveMinimum", 0)) + 1)
    if kind == "string" and schema.get("maxLength", 64) < 8:
        return "x" * max(schema.get("minLength", 1), 1)
    if kind == "string":
        if "format" in schema and schema["format"] in _SAMPLE_FORMATS:
            return _SAMPLE_FORMATS[schema["format"]]
        if "pattern" in schema:
            return "1000.00"  # the only patterned strings are money and points
        return _SAMPLE_STRINGS.get(name, name or "example")
    if kind == "null":
        return None
    return "1000.00"  # a decimal without a type (points): a decimal string

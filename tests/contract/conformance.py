"""Compare a real answer with the contract: every required field present, every field sent
required (a client generated from the contract may then rely on it), in every nested object.

``problems(body, schema)`` walks ``$ref``, ``oneOf`` (the branch named by the discriminator,
else the first branch that fits), arrays and maps."""

from __future__ import annotations

from tests.contract.schema import load_schema


def operation(operation_id: str) -> dict:
    for item in load_schema()["paths"].values():
        for op in item.values():
            if isinstance(op, dict) and op.get("operationId") == operation_id:
                return op
    raise AssertionError(f"no operation {operation_id!r} in openapi.yaml")


def response_schema(operation_id: str, status: int) -> dict:
    responses = operation(operation_id)["responses"]
    assert str(status) in responses, f"{operation_id} does not document {status}"
    return responses[str(status)]["content"]["application/json"]["schema"]


def _resolve(schema: dict) -> dict:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = load_schema()["components"]["schemas"][name]
    return schema


def problems(body, schema: dict, where: str = "$") -> list[str]:
    schema = _resolve(schema)
    if body is None:
        return [] if schema.get("nullable") else [f"{where}: null but not nullable"]
    if "allOf" in schema:
        return [p for part in schema["allOf"] for p in problems(body, part, where)]
    for key in ("oneOf", "anyOf"):
        if key in schema:
            branches = schema[key]
            disc = schema.get("discriminator")
            if disc and isinstance(body, dict):
                value = body.get(disc["propertyName"])
                target = disc.get("mapping", {}).get(value)
                if target is None:
                    return [f"{where}: discriminator {disc['propertyName']}={value!r} unmapped"]
                return problems(body, {"$ref": target}, where)
            found = [problems(body, branch, where) for branch in branches]
            return [] if any(not f for f in found) else min(found, key=len)
    out: list[str] = []
    if "enum" in schema and body not in schema["enum"]:
        out.append(f"{where}: {body!r} not in {schema['enum']}")
    if schema.get("type") == "array" and isinstance(body, list):
        for i, item in enumerate(body):
            out += problems(item, schema.get("items", {}), f"{where}[{i}]")
    if isinstance(body, dict) and ("properties" in schema or schema.get("type") == "object"):
        props = schema.get("properties", {})
        required = set(schema.get("required", ()))
        for name in required - set(body):
            out.append(f"{where}.{name}: required but not sent")
        for name, value in body.items():
            if name in props:
                if name not in required:
                    out.append(f"{where}.{name}: always sent here but optional in the contract")
                out += problems(value, props[name], f"{where}.{name}")
            elif isinstance(schema.get("additionalProperties"), dict):
                out += problems(value, schema["additionalProperties"], f"{where}.{name}")
            elif props and schema.get("additionalProperties") is not True:
                out.append(f"{where}.{name}: sent but not in the contract")
    return out


def assert_conforms(response, operation_id: str) -> dict:
    """The answer's body matches the documented response of its status; returns the body."""
    body = response.json() if response.content else None
    schema = response_schema(operation_id, response.status_code)
    found = problems(body, schema)
    assert not found, f"{operation_id} {response.status_code}:\n" + "\n".join(found)
    return body

"""OpenAPI helpers of polls: enums with their own component names.

``status`` and ``kind`` are field names other apps use with other choices; instead of relying on
drf-spectacular's hashed collision names, these fields publish ``PollStatusEnum`` and
``PollKindEnum`` components themselves."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import serializers


class NamedEnumField(serializers.ChoiceField):
    """A ChoiceField documented as the enum component ``component_name``."""

    def __init__(self, *, component_name: str, **kwargs):
        self.component_name = component_name
        super().__init__(**kwargs)


class NamedEnumFieldExtension(OpenApiSerializerFieldExtension):
    target_class = NamedEnumField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        field: NamedEnumField = self.target
        values = list(field.choices)
        description = "\n".join(f"* `{value}` - {label}" for value, label in field.choices.items())
        component = ResolvedComponent(
            name=field.component_name,
            type=ResolvedComponent.SCHEMA,
            object=field.component_name,
            schema={"enum": values, "type": "string", "description": description},
        )
        auto_schema.registry.register_on_missing(component)
        return component.ref

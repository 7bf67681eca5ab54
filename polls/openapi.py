"""OpenAPI helpers of polls: enums with their own component names.

``status`` and ``kind`` are field names other apps use with other choices; instead of relying on
drf-spectacular's hashed collision names, these fields publish ``PollStatusEnum`` and
``PollKindEnum`` components themselves."""

from __future__ import annotations

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
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


class KindTagField(serializers.ChoiceField):
    """The discriminator of a per-kind schema: one constant value (``"single"``), published as
    a one-value enum component named after the value and the family (``SingleBallotKind``,
    ``IrvResultKind``), so generated clients get one literal type per kind."""

    def __init__(self, value: str, *, family: str, **kwargs):
        self.value = value
        self.component_name = f"{value.title().replace('_', '')}{family}Kind"
        kwargs.setdefault(
            "help_text",
            format_lazy(_("Always `{value}`: says which schema this object has."), value=value),
        )
        super().__init__(choices=[(value, value)], **kwargs)


class KindTagFieldExtension(OpenApiSerializerFieldExtension):
    target_class = KindTagField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        field: KindTagField = self.target
        component = ResolvedComponent(
            name=field.component_name,
            type=ResolvedComponent.SCHEMA,
            object=field.component_name,
            schema={"enum": [field.value], "type": "string"},
        )
        auto_schema.registry.register_on_missing(component)
        return component.ref

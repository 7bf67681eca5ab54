"""OpenAPI helpers of surveys: enums published under their own component names.

Field names such as ``type``, ``state`` and ``kind`` are used by other apps (and by the error
shape) with other choices; rather than drf-spectacular's hashed collision names, these fields
publish named components (``QuestionTypeEnum``, ``SurveyStateEnum``...)."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import serializers


class SurveyEnumField(serializers.ChoiceField):
    """A ChoiceField documented as the enum component ``component_name``."""

    def __init__(self, *, component_name: str, **kwargs):
        self.component_name = component_name
        super().__init__(**kwargs)


class SurveyEnumFieldExtension(OpenApiSerializerFieldExtension):
    target_class = SurveyEnumField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        field: SurveyEnumField = self.target
        description = "\n".join(f"* `{value}` - {label}" for value, label in field.choices.items())
        component = ResolvedComponent(
            name=field.component_name,
            type=ResolvedComponent.SCHEMA,
            object=field.component_name,
            schema={"enum": list(field.choices), "type": "string", "description": description},
        )
        auto_schema.registry.register_on_missing(component)
        return component.ref

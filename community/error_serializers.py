"""Serializers of per-operation error responses, built by ``community.openapi.AutoSchema``.

A module of its own and kept small: drf-spectacular looks up the source of every serializer it
documents, which for classes built at run time means parsing their whole module each time.
"""

from __future__ import annotations

from drf_standardized_errors.settings import package_settings as standardized_settings
from rest_framework import serializers


def error_serializer(component: str, type_choices, codes: set[str]) -> type:
    """``{"type", "errors": [{"code", "detail", "attr": null}]}`` with ``code`` an enum of
    ``codes``. The item component's name ends in drf-standardized-errors' error-component suffix,
    so its ``code`` enum stays inline (one per operation and status) instead of being merged."""
    suffix = standardized_settings.ERROR_COMPONENT_NAME_SUFFIX
    item = type(
        f"{component}Item",
        (serializers.Serializer,),
        {
            "code": serializers.ChoiceField(choices=[(c, c) for c in sorted(codes)]),
            "detail": serializers.CharField(),
            "attr": serializers.CharField(allow_null=True),
            "Meta": type("Meta", (), {"ref_name": f"{component}{suffix}"}),
            "__module__": __name__,
        },
    )
    return type(
        component,
        (serializers.Serializer,),
        {
            "type": serializers.ChoiceField(choices=type_choices),
            "errors": item(many=True),
            "Meta": type("Meta", (), {"ref_name": component}),
            "__module__": __name__,
        },
    )

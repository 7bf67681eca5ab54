"""The admin home (django-unfold's ``DASHBOARD_CALLBACK``): adds the per-community panels."""

from __future__ import annotations

from community.dashboard import dashboard_for


def dashboard_callback(request, context: dict) -> dict:
    context["dashboard"] = dashboard_for(user=request.user)
    return context

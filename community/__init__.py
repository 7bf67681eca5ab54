"""Project package and community core."""

from community.celery import app as celery_app

__all__ = ["celery_app"]

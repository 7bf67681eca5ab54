"""The Celery application. Configured from Django settings (``CELERY_*``)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "community.settings")

app = Celery("community")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Apps with more than one tasks module name the others here (the task boards of ``roles``).
app.autodiscover_tasks(lambda: ["roles"], related_name="tasks_boards")

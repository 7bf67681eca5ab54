"""The WSGI application (gunicorn: ``community.wsgi:application``).

Before the first request it loads what Django would load lazily on it (the URL conf, and
with it every view, serializer and schema) and then freezes the collector's view of all of
it (``gc.freeze()``): those objects live as long as the process, and Python's full
collections, triggered by the allocations of ordinary requests, would otherwise walk all of
them (about 190,000 objects, some 0.1 s per full collection on our hardware) again and again.
Frozen, a full collection walks only what requests created. Objects frozen this way are never
collected, which is what they are for: modules, classes, settings, URL patterns."""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "community.settings")
application = get_wsgi_application()
get_resolver().url_patterns  # noqa: B018 (imports every view now, not on the first request)
gc.collect()
gc.freeze()

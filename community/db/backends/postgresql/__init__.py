"""Django's PostgreSQL backend without pattern indexes on opaque ids (see ``schema``).

``settings.DATABASES`` uses it for every ``postgres://`` ``DATABASE_URL``; it behaves exactly
like ``django.db.backends.postgresql`` otherwise (``connection.vendor`` is ``postgresql``)."""

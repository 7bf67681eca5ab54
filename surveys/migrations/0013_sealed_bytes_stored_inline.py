"""Sealed responses and drafts keep their bytes in the row. A 20-question response seals to
about 3 KB (AES-GCM, padded to whole kilobytes), over PostgreSQL's 2 KB threshold: each one was
first run through pglz, which cannot shrink encrypted bytes, then written out of line into the
TOAST table (a second heap row and an index entry), read back from there by the mixer and
deleted there too. ``STORAGE EXTERNAL`` skips the compression attempt; ``toast_tuple_target``
keeps rows up to 8 KB in the table itself. PostgreSQL only (SQLite stores blobs inline)."""

from django.db import migrations

from community.db.migration_ops import PostgreSQLOnly

TABLES = ("surveys_sealedresponse", "surveys_sealeddraft")

INLINE = "".join(
    f"ALTER TABLE {table} SET (toast_tuple_target = 8160); "
    f"ALTER TABLE {table} ALTER COLUMN sealed SET STORAGE EXTERNAL; "
    for table in TABLES
)
DEFAULT = "".join(
    f"ALTER TABLE {table} RESET (toast_tuple_target); "
    f"ALTER TABLE {table} ALTER COLUMN sealed SET STORAGE EXTENDED; "
    for table in TABLES
)



class Migration(migrations.Migration):
    dependencies = [
        ("surveys", "0012_submission_refused_in_its_statement"),
    ]

    operations = [
        PostgreSQLOnly(INLINE, DEFAULT),
    ]

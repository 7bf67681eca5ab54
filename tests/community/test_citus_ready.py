"""The schema can be distributed by community with Citus (README, "Scaling"): every table that
holds a community's data carries ``community_id`` itself, and every unique constraint on it
other than the primary key includes ``community_id`` (Citus enforces uniqueness only within a
shard, so a unique constraint must contain the distribution column).

Tables that are not a community's (users, their tokens, Django's own) become reference tables
(copied to every node); ``community_community`` is one too (small: one row per WeChat group, and
its ``open_gid``/``invite_code`` are unique across communities). A reference table may not point
at a distributed one, so a table with a foreign key to a community's table is a community's
table itself. The test walks every model and lists each problem with its table."""

from __future__ import annotations

from django.apps import apps
from django.db import models

from community.raised_errors import PROJECT_PACKAGES

#: Tables that stay reference tables although they belong to no user either, with the reason.
REFERENCE_TABLES = {
    "community_community": "the communities themselves: one row per group, looked up by openGId",
}


def project_models() -> list[type[models.Model]]:
    packages = PROJECT_PACKAGES
    return [
        model
        for model in apps.get_models(include_auto_created=True)
        if model.__module__.split(".")[0] in packages or model._meta.app_label in packages
    ]


def has_community_id(model: type[models.Model]) -> bool:
    return any(f.attname == "community_id" for f in model._meta.concrete_fields)


def distributed_models() -> set[type[models.Model]]:
    """Models holding a community's data: a ``community`` key, or a key to such a model."""
    found = {m for m in project_models() if has_community_id(m)}
    changed = True
    while changed:
        changed = False
        for model in project_models():
            if model in found or model._meta.db_table in REFERENCE_TABLES:
                continue
            if any(f.is_relation and f.related_model in found for f in model._meta.concrete_fields):
                found.add(model)
                changed = True
    return found


def unique_sets(model: type[models.Model]) -> list[tuple[str, tuple[str, ...]]]:
    """Every unique constraint but the primary key: (its name, the columns it covers)."""
    opts = model._meta
    found = []
    for field in opts.concrete_fields:
        if field.unique and not field.primary_key:
            found.append((f"{field.name} (unique=True)", (field.column,)))
    for fields in opts.unique_together:
        columns = tuple(opts.get_field(name).column for name in fields)
        found.append((f"unique_together {fields}", columns))
    for constraint in opts.constraints:
        if isinstance(constraint, models.UniqueConstraint):
            columns = tuple(opts.get_field(name).column for name in constraint.fields)
            if constraint.expressions:
                columns += ("<expression>",)
            found.append((constraint.name, columns))
    return found


def citus_problems() -> list[str]:
    problems = []
    for model in sorted(distributed_models(), key=lambda m: m._meta.db_table):
        table = model._meta.db_table
        if not has_community_id(model):
            problems.append(f"{table}: belongs to a community but has no community_id column")
            continue
        for name, columns in unique_sets(model):
            if "community_id" not in columns:
                problems.append(f"{table}: unique {name} on {columns} lacks community_id")
    return problems


def test_every_community_table_is_ready_for_citus():
    problems = citus_problems()
    assert not problems, "Not ready for Citus (see README, Scaling):\n" + "\n".join(problems)


def test_the_walk_sees_the_tables_it_should():
    tables = {m._meta.db_table for m in distributed_models()}
    assert {"polls_ballot", "surveys_answer", "events_registration", "roles_task"} <= tables
    assert "community_user" not in tables and "community_community" not in tables


def test_a_table_without_community_id_below_a_community_table_is_reported():
    """The walk catches what it is for: a child row reaching its community only via a parent."""

    class Orphan(models.Model):
        poll = models.ForeignKey("polls.Poll", on_delete=models.CASCADE)
        code = models.CharField(max_length=8, unique=True)

        class Meta:
            app_label = "polls"
            db_table = "polls_orphan_probe"

        def __str__(self) -> str:
            return self.code

    try:
        assert "polls_orphan_probe: belongs to a community but has no community_id column" in (
            citus_problems()
        )
    finally:
        del apps.all_models["polls"]["orphan"]
        apps.clear_cache()

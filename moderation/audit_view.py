"""The SQL of the audit log's view (``AuditEntry``): every event table of
``moderation/audit_models.py`` as one list of who, to whom, what, why and when.

A view, not a table: nothing is copied, the event tables stay the one record, and the view
cannot be written to (a ``UNION ALL`` view is not updatable). ``WHERE community_id = ...
ORDER BY at DESC`` is pushed into every branch, where the ``(community_id, pgh_created_at)``
index of each event table answers it. Who acted comes from the row when it names them
(``decided_by``, ``assigned_by``), else from the pghistory context (``actor``, set by
``community.audit.audit_context``); empty means the clock or the community's rule. A migration
that adds an event table recreates the view with :func:`create_view`."""

from __future__ import annotations

_BRANCHES = """
SELECT 'membership:' || e.pgh_id AS id, e.community_id, e.pgh_created_at AS at,
  e.pgh_label AS action,
  CASE WHEN e.pgh_label = 'joined' THEN e.user_id ELSE ctx.metadata ->> 'actor' END AS actor_id,
  e.user_id AS subject_id,
  COALESCE(ctx.metadata ->> 'reason', '') AS reason,
  {obj}('tier', e.tier, 'status', e.status, 'muted_until', e.muted_until) AS details
FROM moderation_membershipevent e
LEFT JOIN pghistory_context ctx ON ctx.id = e.pgh_context_id
UNION ALL
SELECT 'role:' || e.pgh_id, e.community_id, e.pgh_created_at, e.pgh_label,
  COALESCE(
    CASE WHEN e.pgh_label = 'role_assigned' THEN assigner.user_id ELSE ender.user_id END,
    ctx.metadata ->> 'actor'
  ),
  holder.user_id,
  CASE WHEN e.pgh_label = 'role_ended' THEN e.end_reason
       ELSE COALESCE(ctx.metadata ->> 'reason', '') END,
  {obj}('role', r.name, 'term_ends_at', e.term_ends_at, 'ended_at', e.ended_at)
FROM moderation_roleassignmentevent e
LEFT JOIN community_membership holder ON holder.id = e.membership_id
LEFT JOIN community_membership assigner ON assigner.id = e.assigned_by_id
LEFT JOIN community_membership ender ON ender.id = e.ended_by_id
LEFT JOIN roles_role r ON r.id = e.role_id
LEFT JOIN pghistory_context ctx ON ctx.id = e.pgh_context_id
UNION ALL
SELECT 'case:' || e.pgh_id, e.community_id, e.pgh_created_at, e.pgh_label,
  COALESCE(e.decided_by_id, ctx.metadata ->> 'actor'), e.subject_id, e.reason,
  {obj}('case', e.pgh_obj_id, 'decision', e.decision, 'target_kind', e.target_kind,
        'target_id', e.target_id, 'mute_until', e.mute_until)
FROM moderation_caseevent e
LEFT JOIN pghistory_context ctx ON ctx.id = e.pgh_context_id
UNION ALL
SELECT 'appeal:' || e.pgh_id, e.community_id, e.pgh_created_at, e.pgh_label,
  CASE WHEN e.pgh_label = 'appeal_made' THEN e.member_id ELSE e.decided_by_id END,
  e.member_id,
  CASE WHEN e.pgh_label = 'appeal_made' THEN e.text ELSE e.reply END,
  {obj}('case', e.case_id, 'status', e.status)
FROM moderation_appealevent e
UNION ALL
SELECT 'escalation:' || e.pgh_id, e.community_id, e.pgh_created_at, e.pgh_label,
  NULL, e.member_id, COALESCE(ctx.metadata ->> 'reason', ''),
  {obj}('warnings', e.warnings, 'window_days', e.window_days, 'mute_days', e.mute_days,
        'mute_until', e.mute_until)
FROM moderation_escalationevent e
LEFT JOIN pghistory_context ctx ON ctx.id = e.pgh_context_id
UNION ALL
SELECT 'rule:' || e.pgh_id, e.community_id, e.pgh_created_at, e.pgh_label,
  ctx.metadata ->> 'actor', NULL, COALESCE(ctx.metadata ->> 'reason', ''),
  {obj}('enabled', e.enabled, 'warnings', e.warnings, 'window_days', e.window_days,
        'mute_days', e.mute_days)
FROM moderation_warningruleevent e
LEFT JOIN pghistory_context ctx ON ctx.id = e.pgh_context_id
"""

VIEW = "moderation_auditentry"


def view_sql(vendor: str) -> str:
    """``CREATE VIEW`` for PostgreSQL (``jsonb_build_object``) or SQLite (``json_object``;
    the development database has the view but no triggers, so its log stays empty)."""
    obj = "jsonb_build_object" if vendor == "postgresql" else "json_object"
    return f"CREATE VIEW {VIEW} AS {_BRANCHES.format(obj=obj)}"


def create_view(apps, schema_editor) -> None:
    schema_editor.execute(f"DROP VIEW IF EXISTS {VIEW}")
    schema_editor.execute(view_sql(schema_editor.connection.vendor))


def drop_view(apps, schema_editor) -> None:
    schema_editor.execute(f"DROP VIEW IF EXISTS {VIEW}")

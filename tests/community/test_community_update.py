"""``community_update``: the service checks its actor itself, and WeChat's content check runs
before the transaction, with no lock held during the HTTP call."""

from __future__ import annotations

import pytest
from django.db import connection, connections, transaction

from community.errors import DomainError, Forbidden
from community.models import Community
from community.services.communities import community_update
from tests.factories import MembershipFactory
from tests.wechat_fake import wechat_json

CHECK = "/wxa/msg_sec_check"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("tier", "status", "code"),
    [("moderator", "active", "tier_too_low"), ("member", "active", "tier_too_low"),
     ("admin", "muted", "muted")],
)  # fmt: skip
def test_only_admins_may_edit_the_community_even_calling_the_service(
    make_member, community, settings, tier, status, code
):
    settings.WECHAT_CONTENT_CHECK = False
    actor, _client = make_member(tier=tier, status=status)
    with pytest.raises(Forbidden) as refused:
        community_update(actor=actor, name="改名", members_can_create_polls=True)
    assert refused.value.code == code
    community.refresh_from_db()
    assert community.name != "改名" and community.members_can_create_polls is False
    admin, _client = make_member(tier="admin")  # control: an admin may
    community_update(actor=admin, name="改名")
    community.refresh_from_db()
    assert community.name == "改名"


@pytest.mark.django_db
def test_risky_text_changes_nothing(make_member, community, wechat_server):
    wechat_server.expect_request(CHECK, method="POST").respond_with_json(
        {"errcode": 0, "errmsg": "ok", "result": {"suggest": "risky", "label": 20001}}
    )
    admin, _client = make_member(tier="admin")
    with pytest.raises(DomainError) as refused:
        community_update(actor=admin, name="坏名字", join_policy="approval")
    assert refused.value.code == "content_risky"
    community.refresh_from_db()
    assert community.name != "坏名字" and community.join_policy != "approval"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's activity view")
@pytest.mark.django_db(transaction=True)
def test_content_check_runs_with_no_transaction_open_and_the_community_unlocked(wechat_server):
    """From inside the fake WeChat server during the check: the editing connection is idle (not
    "idle in transaction") and the community row can be locked by anyone else."""
    admin = MembershipFactory(tier="admin")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        editor_pid = cursor.fetchone()[0]
    seen = []

    def during_the_check(request):
        try:
            with connection.cursor() as cursor:  # this server thread's own connection
                cursor.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", [editor_pid])
                state = cursor.fetchone()[0]
            with transaction.atomic():
                Community.objects.select_for_update(nowait=True).get(pk=admin.community_id)
            seen.append(state)
        except Exception as exc:  # report it in the assertion below
            seen.append(repr(exc))
        finally:
            connections.close_all()
        return wechat_json({"errcode": 0, "errmsg": "ok", "result": {"suggest": "pass"}})

    wechat_server.expect_request(CHECK, method="POST").respond_with_handler(during_the_check)
    community = community_update(actor=admin, name="新名字", rules_text="新群规")
    assert seen == ["idle", "idle"]  # one check per changed text
    assert (community.name, community.rules_version) == ("新名字", 1)
    community.refresh_from_db()
    assert (community.name, community.rules_text, community.rules_version) == (
        "新名字",
        "新群规",
        1,
    )

"""Every write endpoint that publishes text, walked against the fake WeChat server: a text
WeChat marks risky answers 400 ``content_risky`` naming the field and writes nothing; "review"
and an unreachable WeChat (HTTP 500, and a timeout) store it held in the moderation queue
(``ContentHold`` with why ``review`` / ``unchecked`` and an open case), and a held change
leaves the text members see as it was. WeChat is never asked while a transaction is open.

The walk lists its endpoints explicitly (``WALK``); a meta-check reads the contract and fails
when a free-text string of a write operation's body is neither walked nor exempted with a
reason (``EXEMPT``), so a new text field cannot slip past the screening unnoticed."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils import timezone

from community.models import Community, User
from events import services as event_services
from events.models import Event, Registration
from moderation.models import Case, ContentHold
from polls import services as poll_services
from polls.models import Ballot, Option, Poll
from roles.models import Role
from roles.models.boards import TaskComment
from roles.services import boards as board_services
from roles.services import tasks_edit
from tests.contract.schema import load_schema
from tests.wechat_fake import wechat_json

pytestmark = pytest.mark.django_db

CHECK = "/wxa/msg_sec_check"
#: The text under test; WeChat passes every other text of the request.
MARK = "加我微信领红包"
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Ctx:
    """The community of one walk step: an admin, a member, and what they act on."""

    admin: Any
    admin_client: Any
    member: Any
    member_client: Any
    poll: Poll
    proposal: Poll
    event: Event
    task: Any
    role: Role


@dataclass(frozen=True)
class Write:
    """One write endpoint that publishes text: how to send ``text`` in ``field``, what it
    writes (a snapshot compared before and after a refusal), and the held target."""

    operation: str
    fields: tuple[str, ...]
    kind: str
    send: Callable[[Ctx, str, str], Any]
    written: Callable[[Ctx], Any]
    target: Callable[[Ctx, Any], str]
    by_member: bool = False  # sent by the plain member (else by the admin)
    stored_as: str | None = None  # the field a held change keeps the text in, when not ``field``


def _texts(field: str, text: str, fields: dict[str, str]) -> dict[str, str]:
    body = dict(fields)
    body[field] = text
    return body


def send_create_poll(ctx: Ctx, field: str, text: str):
    body = _texts(field, text, {"title": "周末去哪", "description": ""})
    labels = [text if field == "options[].label" else "爬山", "看展"]
    body.pop("options[].label", None)
    return ctx.admin_client.post(
        f"/api/v1/communities/{ctx.admin.community_id}/polls",
        {
            **body,
            "kind": "single",
            "closes_at": (timezone.now() + timedelta(days=1)).isoformat(),
            "options": [{"label": label} for label in labels],
        },
        format="json",
    )


def send_create_event(ctx: Ctx, field: str, text: str):
    return ctx.admin_client.post(
        f"/api/v1/communities/{ctx.admin.community_id}/events",
        {
            **_texts(field, text, {"title": "周六爬山"}),
            "mode": "quick",
            "starts_at": (timezone.now() + timedelta(days=2)).isoformat(),
        },
        format="json",
    )


def event_texts(ctx: Ctx) -> tuple:
    return tuple(
        Event.objects.filter(pk=ctx.event.pk).values_list(
            "title", "description", "location_name", "location_address", "fee_note"
        )[0]
    )


def community_texts(ctx: Ctx) -> tuple:
    return tuple(
        Community.objects.filter(pk=ctx.admin.community_id).values_list(
            "name", "description", "rules_text", "rules_version"
        )[0]
    )


def new_id(ctx: Ctx, response) -> str:
    return response.json()["id"]


WALK: tuple[Write, ...] = (
    Write(
        "createPoll",
        ("title", "description", "options[].label"),
        "poll",
        send_create_poll,
        lambda ctx: (Poll.objects.count(), Option.objects.count()),
        new_id,
    ),
    Write(
        "addPollOption",
        ("label",),
        "poll_option",
        lambda ctx, field, text: ctx.member_client.post(
            f"/api/v1/polls/{ctx.poll.pk}/options", {field: text}, format="json"
        ),
        lambda ctx: Option.objects.filter(poll=ctx.poll).count(),
        new_id,
        by_member=True,
    ),
    Write(
        "castBallot",
        ("reason",),
        "ballot_reason",
        lambda ctx, field, text: ctx.member_client.put(
            f"/api/v1/polls/{ctx.proposal.pk}/ballot",
            {"kind": "proposal", "position": "agree", field: text},
            format="json",
        ),
        lambda ctx: Ballot.objects.filter(poll=ctx.proposal).count(),
        lambda ctx, response: str(Ballot.objects.get(poll=ctx.proposal).pk),
        by_member=True,
    ),
    Write(
        "createEvent",
        ("title", "description", "location_name", "location_address", "fee_note"),
        "event",
        send_create_event,
        lambda ctx: Event.objects.count(),
        new_id,
    ),
    Write(
        "updateEvent",
        ("title", "description", "location_name", "location_address", "fee_note"),
        "event_texts",
        lambda ctx, field, text: ctx.admin_client.patch(
            f"/api/v1/events/{ctx.event.pk}", {field: text}, format="json"
        ),
        event_texts,
        lambda ctx, response: ctx.event.pk,
    ),
    Write(
        "cancelEvent",
        ("reason",),
        "event_texts",
        lambda ctx, field, text: ctx.admin_client.post(
            f"/api/v1/events/{ctx.event.pk}/cancel", {field: text}, format="json"
        ),
        lambda ctx: tuple(
            Event.objects.filter(pk=ctx.event.pk).values_list("cancelled_at", "cancel_reason")[0]
        ),
        lambda ctx, response: ctx.event.pk,
        stored_as="cancel_reason",
    ),
    Write(
        "signUpForEvent",
        ("note",),
        "registration_note",
        lambda ctx, field, text: ctx.member_client.put(
            f"/api/v1/events/{ctx.event.pk}/registration", {field: text}, format="json"
        ),
        lambda ctx: Registration.objects.filter(event=ctx.event).count(),
        lambda ctx, response: Registration.objects.get(event=ctx.event).pk,
        by_member=True,
    ),
    Write(
        "commentOnTask",
        ("body",),
        "task_comment",
        lambda ctx, field, text: ctx.member_client.post(
            f"/api/v1/tasks/{ctx.task.pk}/comments", {field: text}, format="json"
        ),
        lambda ctx: TaskComment.objects.count(),
        new_id,
        by_member=True,
    ),
    Write(
        "updateMyProfile",
        ("nickname",),
        "nickname",
        lambda ctx, field, text: ctx.member_client.patch(
            "/api/v1/me", {field: text}, format="json"
        ),
        lambda ctx: User.objects.get(pk=ctx.member.user_id).nickname,
        lambda ctx, response: ctx.member.user_id,
        by_member=True,
    ),
    Write(
        "updateCommunity",
        ("name", "description", "purpose", "rules_text"),
        "community_texts",
        lambda ctx, field, text: ctx.admin_client.patch(
            f"/api/v1/communities/{ctx.admin.community_id}", {field: text}, format="json"
        ),
        community_texts,
        lambda ctx, response: ctx.admin.community_id,
    ),
    Write(
        "createRole",
        ("name", "description"),
        "role",
        lambda ctx, field, text: ctx.admin_client.post(
            f"/api/v1/communities/{ctx.admin.community_id}/roles",
            _texts(field, text, {"name": "摄影师"}),
            format="json",
        ),
        lambda ctx: Role.objects.count(),
        new_id,
    ),
    Write(
        "updateRole",
        ("name", "description"),
        "role_texts",
        lambda ctx, field, text: ctx.admin_client.patch(
            f"/api/v1/roles/{ctx.role.pk}", {field: text}, format="json"
        ),
        lambda ctx: tuple(
            Role.objects.filter(pk=ctx.role.pk).values_list("name", "description")[0]
        ),
        lambda ctx, response: ctx.role.pk,
    ),
)

#: Free-text strings of write operations that are not screened, and why.
EXEMPT: dict[str, str] = {
    "loginForDevelopment.nickname": "development login, only with DEBUG; a demo user's name",
    "loginWithWeChat.code": "WeChat's login code, not text",
    "joinByInvite.invite_code": "an invite code, not text",
    "joinByShareTicket.encrypted_data": "WeChat's encrypted share ticket, not text",
    "joinByShareTicket.iv": "WeChat's encrypted share ticket, not text",
    "joinEventCommunityFromShare.encrypted_data": "WeChat's encrypted share ticket, not text",
    "joinEventCommunityFromShare.iv": "WeChat's encrypted share ticket, not text",
    "checkInAttendee.code": "a check-in QR token, not text",
    "checkInMyself.code": "the event's self-check-in code, not text",
    "castBallot.receipt": "a secret ballot's receipt, never shown",
    "updateCommunity.time_zone": "an IANA zone name, validated against the zone database",
    "reportContentOrMember.note": "read by the moderators in the queue only, never published",
    "decideModerationCase.reason": "a moderator's decision, told to the reporters only",
    "volunteerForRole.message": "read by the admins deciding the offer only, never published",
    "appealModerationDecision.text": "read by the moderators deciding the appeal only",
    "decideAppeal.reason": "a moderator's decision, told to the appealing member only",
    "removeInactiveMembers.reason": "kept for the admin tiers with the removal, never published",
    "importMessageCounts.csv": "chat message counts (dates, names, numbers), never published",
    "replyToConversation.text": (
        "a moderator's private answer to one member in WeChat's customer-service chat (WeChat "
        "checks customer-service messages itself), never published; the member's own messages "
        "are screened when pushed (tests/assistant/test_push.py)"
    ),
    "createAnnouncement.cover_url": "an https image address, validated as a URL, not text",
    "createDraw.title": (
        "screened strictly like a category name: risky, review and an unreachable WeChat refuse "
        "it (tests/games/test_screening.py)"
    ),
    "createDraw.prizes[].name": (
        "screened strictly with the title (tests/games/test_screening.py)"
    ),
    "updateAnnouncement.cover_url": "an https image address, validated as a URL, not text",
    "updateCommunity.rules_summary": (
        "stored only with a new rules text, and screened with it in one check "
        "(tests/community/test_rules_alive.py)"
    ),
    **{
        f"{operation}.{field}": (
            "screened and held like a poll (tests/announcements/test_screening.py)"
        )
        for operation in ("createAnnouncement", "updateAnnouncement")
        for field in ("title", "body")
    },
    **{
        f"{operation}.name": (
            "a category label cannot wait hidden: risky, review and an unreachable WeChat "
            "refuse it (tests/announcements/test_screening.py)"
        )
        for operation in ("createAnnouncementCategory", "updateAnnouncementCategory")
    },
    **{
        f"{operation}.{field}": (
            "staff texts that go out to members at once (FAQ writers: admin tiers and the "
            "publish-content role): screened strictly, risky, review and an unreachable WeChat "
            "refuse them (tests/assistant/test_faq_screening.py)"
        )
        for operation, fields in {
            "createFaqEntry": ("question", "answer", "category"),
            "updateFaqEntry": ("question", "answer", "category"),
            "createKeywordRule": ("reply_text", "reply_title"),
            "updateKeywordRule": ("reply_text", "reply_title"),
        }.items()
        for field in fields
    },
    **{
        f"{operation}.{field}": why
        for operation in ("createKeywordRule", "updateKeywordRule")
        for field, why in {
            "pattern": "a keyword rule's pattern, matched against messages, never shown to members",
            "reply_page_path": "a mini-program page path, not text",
            "reply_url": "an https address, validated, not text",
        }.items()
    },
    **{
        f"{operation}.{field}": (
            "board editors' working texts (the admin tiers and holders of the manage-boards "
            "role), shown on the board to its team; not in issue 12's list (follow-up)"
        )
        for operation, fields in {
            "createBoard": ("title", "description", "columns[].title"),
            "updateBoard": ("title", "description"),
            "addBoardColumn": ("title",),
            "updateBoardColumn": ("title",),
            "createTask": ("title", "description", "links[].title"),
            "updateTask": ("title", "description", "links[].title"),
            "addChecklistItem": ("title",),
            "updateChecklistItem": ("title",),
        }.items()
        for field in fields
    },
}
#: Strings that name an object (ids) are not text.
ID_SUFFIXES = ("_id",)


def _free_text_fields(schema: dict, components: dict, prefix: str = "") -> set[str]:
    """Writable string properties without a format or an enum (free text), recursively."""
    while "$ref" in schema:
        schema = components[schema["$ref"].split("/")[-1]]
    found: set[str] = set()
    for key in ("allOf", "oneOf", "anyOf"):
        for sub in schema.get(key, []):
            found |= _free_text_fields(sub, components, prefix)
    if schema.get("type") == "array" and "items" in schema:
        found |= _free_text_fields(schema["items"], components, prefix.rstrip(".") + "[].")
    for name, prop in (schema.get("properties") or {}).items():
        if prop.get("readOnly"):
            continue
        resolved = prop
        while "$ref" in resolved:
            resolved = components[resolved["$ref"].split("/")[-1]]
        if resolved.get("type") == "string" and "enum" not in resolved:
            if "format" not in resolved and not name.endswith(ID_SUFFIXES):
                found.add(prefix + name)
        elif resolved.get("type") == "array":
            found |= _free_text_fields(resolved, components, prefix + name)
        elif resolved.get("type") == "object" or {"allOf", "oneOf"} & set(resolved):
            found |= _free_text_fields(resolved, components, prefix + name + ".")
    return found


def write_operation_texts() -> set[str]:
    spec = load_schema()
    components = spec["components"]["schemas"]
    found = set()
    for operations in spec["paths"].values():
        for method, operation in operations.items():
            if method not in ("post", "put", "patch"):
                continue
            content = operation.get("requestBody", {}).get("content", {})
            for media in content.values():
                for field in _free_text_fields(media["schema"], components):
                    found.add(f"{operation['operationId']}.{field}")
    return found


def test_every_free_text_of_a_write_operation_is_walked_or_exempted_with_a_reason():
    walked = {f"{write.operation}.{field}" for write in WALK for field in write.fields}
    texts = write_operation_texts()
    assert texts - walked - set(EXEMPT) == set(), "screen these texts, or exempt them with why"
    assert walked - texts == set(), "walked fields the contract does not have"
    assert set(EXEMPT) - texts == set(), "exemptions of fields that are gone"
    assert all(reason.strip() for reason in EXEMPT.values())


def test_the_meta_check_sees_a_new_text_field():
    """Control: the walker finds nested and listed texts and skips ids, enums and dates."""
    components = {
        "In": {
            "type": "object",
            "properties": {
                "title": {"type": "string"},
                "when": {"type": "string", "format": "date-time"},
                "kind": {"$ref": "#/components/schemas/Kind"},
                "role_id": {"type": "string"},
                "items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}},
                "shown": {"type": "string", "readOnly": True},
            },
        },
        "Kind": {"type": "string", "enum": ["a", "b"]},
        "Item": {"type": "object", "properties": {"label": {"type": "string"}}},
    }
    found = _free_text_fields({"$ref": "#/components/schemas/In"}, components)
    assert found == {"title", "items[].label"}


# --- the walk ----------------------------------------------------------------------------------
@pytest.fixture
def ctx(make_member, settings):
    settings.WECHAT_CONTENT_CHECK = False  # the walk's objects are made unchecked
    admin, admin_client = make_member(tier="admin")
    member, member_client = make_member()
    closes = timezone.now() + timedelta(days=1)
    poll = poll_services.poll_create(
        actor=admin,
        title="周末去哪",
        kind="single",
        closes_at=closes,
        options=[{"label": "爬山"}, {"label": "看展"}],
        allow_member_options=True,
    )
    proposal = poll_services.poll_create(
        actor=admin, title="换群名", kind="proposal", closes_at=closes, options=[]
    )
    event = event_services.event_create(
        actor=admin, title="周六爬山", starts_at=timezone.now() + timedelta(days=2)
    )
    board = board_services.board_create(actor=admin, title="活动筹备")
    task = tasks_edit.task_create(actor=admin, board=board, title="订场地", column_id=None)
    role = Role.objects.create(community=admin.community, name="摄影", description="拍照")
    return Ctx(admin, admin_client, member, member_client, poll, proposal, event, task, role)


def wechat_says(wechat_server, suggest: str | None, seen: list) -> None:
    """Answer content checks with ``suggest`` (None: HTTP 500, "timeout": too slow), and
    record whether the requesting test connection had a transaction open of its own."""
    base = len(connection.atomic_blocks)  # the test's own wrapping transaction
    test_connection = connections[DEFAULT_DB_ALIAS]  # this thread's, not a proxy

    def handler(request):
        seen.append(len(test_connection.atomic_blocks) - base)
        if MARK not in json.loads(request.get_data())["content"]:
            return wechat_json({"errcode": 0, "errmsg": "ok", "result": {"suggest": "pass"}})
        if suggest is None:
            return wechat_json({}, status=500)
        if suggest == "timeout":
            time.sleep(0.5)
        return wechat_json(
            {"errcode": 0, "errmsg": "ok", "result": {"suggest": suggest, "label": 100}}
        )

    wechat_server.expect_request(CHECK, method="POST").respond_with_handler(handler)


#: Risky on every field (the error names it); review, down (HTTP 500) and a timeout on the
#: first field of each endpoint (the holding does not depend on the field).
CASES = [(write, field, "risky") for write in WALK for field in write.fields] + [
    (write, write.fields[0], suggest) for write in WALK for suggest in ("review", None, "timeout")
]


@pytest.mark.parametrize(
    "write,field,suggest",
    CASES,
    ids=[f"{w.operation}.{f}-{s or 'down'}" for w, f, s in CASES],
)
def test_every_published_text_is_screened(wechat_server, settings, ctx, write, field, suggest):
    settings.WECHAT_CONTENT_CHECK = True
    settings.WECHAT_TIMEOUT = 0.2
    seen: list[int] = []
    wechat_says(wechat_server, suggest, seen)
    before = write.written(ctx)
    text = MARK
    response = write.send(ctx, field, text)
    assert seen and set(seen) == {0}, "WeChat was asked inside a transaction"
    if suggest == "risky":
        assert response.status_code == 400, response.content
        error = response.json()["errors"][0]
        assert error["code"] == "content_risky"
        assert error["attr"] == ("options" if field == "options[].label" else field)
        assert write.written(ctx) == before, "a refused text wrote something"
        assert not ContentHold.objects.exists() and not Case.objects.exists()
        return
    assert response.status_code in (200, 201), response.content
    target = write.target(ctx, response)
    hold = ContentHold.objects.get(target_kind=write.kind, target_id=target)
    assert hold.why == ("review" if suggest == "review" else "unchecked")
    assert Case.objects.filter(target_kind=write.kind, target_id=target, status="open").exists()
    if write.operation == "cancelEvent":  # cancelled at once, without the held reason
        cancelled_at, reason = write.written(ctx)
        assert cancelled_at is not None and reason == ""
        assert hold.pending == {"cancel_reason": text}
    elif write.kind in ("event_texts", "community_texts", "role_texts", "nickname"):
        assert write.written(ctx) == before, "a held change is shown before its release"
        assert hold.pending == {write.stored_as or field: text}

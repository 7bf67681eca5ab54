"""The events admin: counts, the attendees inline and its status filters, the organizer's
actions (the same services as the API), the printable list and the attendee export with form
answers through the shared export machinery."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import openpyxl
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from community.exports import exports_sweep
from community.models import Tier
from events import services
from events.models import CheckIn, Event, Registration, RegistrationStatus
from events.models_edges import AttendeeExport
from events.services.checkin import checkin_by_hand
from tests.admin_forms import change_form
from tests.factories import CommunityFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

FORM = {
    "questions": [
        {
            "id": "size",
            "type": "single_choice",
            "title": "T恤尺码",
            "required": True,
            "choices": [{"id": "m", "label": "M"}, {"id": "l", "label": "L"}],
        },
        {"id": "diet", "type": "short_text", "title": "饮食", "required": False},
    ]
}


@pytest.fixture
def staff(community):
    membership = MembershipFactory(community=community, tier=Tier.MODERATOR)
    membership.user.is_staff = True
    membership.user.save()
    client = Client()
    client.force_login(membership.user)
    return membership, client


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EXPORT_ROOT = tmp_path / "exports"
    return tmp_path


def _event(actor, **kwargs) -> Event:
    kwargs.setdefault("starts_at", timezone.now() + timedelta(days=3))
    kwargs.setdefault("mode", "full")
    return services.event_create(actor=actor, title=kwargs.pop("title", "秋游"), **kwargs)


def _member(community, nickname: str):
    return MembershipFactory(community=community, user=UserFactory(nickname=nickname))


def _sign_up(membership, event, **kwargs) -> Registration:
    return services.registration_put(actor=membership, event_id=event.pk, **kwargs)


def test_list_shows_counts_and_only_own_communities(community, staff):
    actor, client = staff
    event = _event(actor, capacity=3, max_guests=2)
    first = _sign_up(_member(community, "小张"), event, guests=1)
    _sign_up(_member(community, "小李"), event)
    _sign_up(_member(community, "小王"), event)  # waits: 3 of 3 seats taken
    checkin_by_hand(actor=actor, event=event, registration_id=first.pk)
    other_owner = MembershipFactory(community=CommunityFactory(), tier=Tier.OWNER)
    _event(other_owner, title="别人的活动")
    page = client.get(reverse("admin:events_event_changelist")).content.decode()
    assert "秋游" in page and "别人的活动" not in page
    assert "3 / 3" in page  # confirmed people / capacity
    row = page[page.index("秋游") :]
    # the cell's class list belongs to the admin theme; its value is what the moderator reads
    assert re.search(r'<td class="field-waitlist_count[^"]*"[^>]*>\s*1\s*</td>', row)
    assert re.search(r'<td class="field-checked_in_display[^"]*"[^>]*>\s*2\s*</td>', row)


def test_changelist_queries_do_not_grow_with_events(community, staff):
    actor, client = staff
    for i in range(2):
        _event(actor, title=f"e{i}")
    url = reverse("admin:events_event_changelist")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for i in range(6):
        _event(actor, title=f"f{i}")
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)


def test_event_page_lists_attendees_and_filters_them_by_status(community, staff):
    actor, client = staff
    event = _event(actor, capacity=1)
    _sign_up(_member(community, "小张"), event)
    _sign_up(_member(community, "小李"), event)
    url = reverse("admin:events_event_change", args=[event.pk])
    page = client.get(url).content.decode()
    assert "小张" in page and "小李" in page
    page = client.get(url + "?registration_status=waitlisted").content.decode()
    assert "小李" in page and "小张" not in page


def test_create_through_the_service_and_its_refusals_as_form_errors(community, staff):
    _actor, client = staff
    add = reverse("admin:events_event_add")
    data = change_form(client, add)
    start = timezone.localtime(timezone.now() + timedelta(days=5))
    data.update(
        {
            "community": community.pk,
            "mode": "quick",
            "title": "周六爬山",
            "starts_at_0": start.strftime("%Y-%m-%d"),
            "starts_at_1": "09:00:00",
            "ends_at_0": start.strftime("%Y-%m-%d"),
            "ends_at_1": "08:00:00",  # before the start: the service refuses
            "signup_opens_at_0": timezone.localtime().strftime("%Y-%m-%d"),
            "signup_opens_at_1": "00:00:00",
            "max_guests": "2",
            "offer_hours": "12",
            "reminder_hours": "[24, 2]",
        }
    )
    refused = client.post(add, data)
    assert refused.status_code == 200
    assert not Event.objects.exists()
    data["ends_at_1"] = "12:00:00"
    created = client.post(add, data)
    assert created.status_code == 302, created.content.decode()[:3000]
    event = Event.objects.get()
    assert event.title == "周六爬山" and event.author_id == staff[0].user_id


def _act(client, action: str, registrations) -> None:
    client.post(
        reverse("admin:events_registration_changelist"),
        {"action": action, "_selected_action": [r.pk for r in registrations]},
    )


def test_registration_actions_use_the_services(community, staff):
    actor, client = staff
    approval = _event(actor, requires_approval=True, title="需审核")
    pending = _sign_up(_member(community, "待审"), approval)
    declined = _sign_up(_member(community, "拒绝"), approval)
    _act(client, "approve", [pending])
    _act(client, "reject", [declined])
    pending.refresh_from_db()
    declined.refresh_from_db()
    assert (pending.status, declined.status) == ("confirmed", "rejected")
    assert pending.decided_by_id == actor.user_id

    _act(client, "check_in", [pending])
    assert CheckIn.objects.filter(registration=pending, method="manual").count() == 1
    _act(client, "undo_check_in", [pending])
    assert not CheckIn.objects.filter(registration=pending).exists()


def test_move_from_waitlist_only_when_the_seats_fit(community, staff):
    actor, client = staff
    event = _event(actor, capacity=2, max_guests=1)
    _sign_up(_member(community, "一"), event, guests=1)
    waiting = _sign_up(_member(community, "二"), event)
    assert waiting.status == RegistrationStatus.WAITLISTED
    _act(client, "move_from_waitlist", [waiting])
    waiting.refresh_from_db()
    assert waiting.status == RegistrationStatus.WAITLISTED  # full: refused, nothing moved
    services.event_update(actor=actor, event_id=event.pk, capacity=3)
    waiting.refresh_from_db()  # raising the capacity promoted the head of the line already
    assert waiting.status == RegistrationStatus.CONFIRMED
    late = _sign_up(_member(community, "三"), event)
    assert late.status == RegistrationStatus.WAITLISTED
    Event.objects.filter(pk=event.pk).update(capacity=4)  # room, without the update's promotion
    _act(client, "move_from_waitlist", [late])
    late.refresh_from_db()
    event.refresh_from_db()
    assert late.status == RegistrationStatus.CONFIRMED
    assert (event.seats_taken, event.waitlist_count) == (4, 0)


def test_actions_obey_the_rules_for_another_communitys_moderator(community, staff):
    owner = MembershipFactory(community=CommunityFactory(), tier=Tier.OWNER)
    foreign = _event(owner, requires_approval=True)
    registration = _sign_up(MembershipFactory(community=owner.community), foreign)
    _act(staff[1], "approve", [registration])
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.PENDING


def test_printable_list(community, staff):
    actor, client = staff
    event = _event(actor, capacity=1, max_guests=2)
    _sign_up(_member(community, "小张"), event, note="带水")
    _sign_up(_member(community, "小李"), event, guests=2)
    page = client.get(reverse("admin:events_event_print", args=[event.pk])).content.decode()
    confirmed = page[page.index('id="confirmed"') : page.index('id="waiting"')]
    assert "小张" in confirmed and "带水" in confirmed and "小李" not in confirmed
    assert "小李" in page[page.index('id="waiting"') :] and "+2" in page
    outsider = MembershipFactory(community=CommunityFactory(), tier=Tier.MODERATOR)
    outsider.user.is_staff = True
    outsider.user.save()
    other = Client()
    other.force_login(outsider.user)
    assert other.get(reverse("admin:events_event_print", args=[event.pk])).status_code == 404


def test_attendee_export_with_form_answers_csv_and_xlsx(
    community, staff, media, django_capture_on_commit_callbacks
):
    actor, client = staff
    event = _event(actor, form=FORM, max_guests=1)
    first = _sign_up(_member(community, "小张"), event, guests=1, answers={"size": {"choice": "m"}})
    _sign_up(_member(community, "=cmd"), event, answers={"size": {"choice": "l"}, "diet": "素食"})
    checkin_by_hand(actor=actor, event=event, registration_id=first.pk)
    for fmt in ("csv", "xlsx"):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("admin:events_event_export", args=[event.pk, fmt]))
        assert response.status_code == 302
    exports = {e.format: e for e in AttendeeExport.objects.all()}
    assert {e.status for e in exports.values()} == {"done"}, [e.error for e in exports.values()]
    assert exports["csv"].rows_done == exports["csv"].rows_total == 2
    download = client.get(
        reverse("admin:events_event_export_download", args=[event.pk, exports["csv"].pk])
    )
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig"))))
    assert rows[0][-2:] == ["T恤尺码", "饮食"]
    assert [(r[1], r[3], r[7], r[-2], r[-1]) for r in rows[1:]] == [
        ("小张", "1", "2", "M", ""),
        ("'=cmd", "0", "0", "L", "素食"),  # a formula is quoted
    ]
    download = client.get(
        reverse("admin:events_event_export_download", args=[event.pk, exports["xlsx"].pk])
    )
    book = openpyxl.load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    values = list(book.active.iter_rows(values_only=True))
    assert values[1][-2:] == ("M", None) or values[1][-2:] == ("M", "")
    page = client.get(reverse("admin:events_event_change", args=[event.pk])).content.decode()
    assert reverse("admin:events_event_export_download", args=[event.pk, exports["csv"].pk]) in page


def test_export_needs_an_organizer_and_download_checks_the_community(
    community, staff, media, django_capture_on_commit_callbacks
):
    actor, _client = staff
    event = _event(actor)
    member = MembershipFactory(community=community)
    from community.errors import Forbidden
    from events.services.exports import attendee_export_request

    with pytest.raises(Forbidden):
        attendee_export_request(actor=member, event=event, format="csv")
    with django_capture_on_commit_callbacks(execute=True):
        export = attendee_export_request(actor=actor, event=event, format="csv")
    outsider = MembershipFactory(community=CommunityFactory(), tier=Tier.MODERATOR)
    outsider.user.is_staff = True
    outsider.user.save()
    other = Client()
    other.force_login(outsider.user)
    url = reverse("admin:events_event_export_download", args=[event.pk, export.pk])
    assert other.get(url).status_code == 404


def test_the_exports_sweep_requeues_a_lost_attendee_export(
    community, staff, media, django_capture_on_commit_callbacks
):
    actor, _client = staff
    event = _event(actor)
    export = AttendeeExport.objects.create(
        community=community,
        event=event,
        format="csv",
        heartbeat_at=timezone.now() - timedelta(hours=1),
    )
    with django_capture_on_commit_callbacks(execute=True):
        result = exports_sweep()
    assert result["requeued"] >= 1
    export.refresh_from_db()
    assert (export.status, export.attempts) == ("done", 2)

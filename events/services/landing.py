"""The share card of an event: what the mini-program needs to share it, and joining the
community from that card so the member lands on the event.

An event shared into the group chat opens ``pages/events/detail?id=<event id>``. A member of
the community reads it at once; anyone else gets 404 (events of a community are its members'
business) and joins through the card: the mini-program sends the share ticket
(``wx.getGroupEnterInfo``) to :func:`event_join_from_share`, which joins the community of that
WeChat group with the existing share-ticket flow (``community_join_by_share_ticket``: group
rules, approval, bans and mutes all apply) and says where to land."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from community.errors import NotFound
from community.models import Membership, MembershipStatus, User, WeChatSession
from community.services.communities import community_join_by_share_ticket
from community.wechat import DecryptError, decrypt_data
from events.models import Event
from events.services.common import event_page


def event_page_path(event_id: str) -> str:
    """The mini-program page of an event (the one notifications open too)."""
    return event_page(event_id)


def event_scene(event_id: str) -> str:
    """The ``scene`` of a mini-program code of an event (``getwxacodeunlimit``, 32 chars)."""
    return f"e={event_id}"


@dataclass
class EventLanding:
    membership: Membership
    event: Event

    @property
    def path(self) -> str | None:
        """Where to go now: the event, unless the membership waits for approval."""
        if self.membership.status == MembershipStatus.PENDING:
            return None
        return event_page_path(self.event.pk)


def _group_of(*, user: User, encrypted_data: str, iv: str) -> str | None:
    """The ``openGId`` of the share ticket, or None when it cannot be read (the join below
    then answers with the share-ticket flow's own error)."""
    session = WeChatSession.objects.filter(user=user).first()
    if session is None:
        return None
    try:
        payload = decrypt_data(
            session_key=session.session_key,
            encrypted_data=encrypted_data,
            iv=iv,
            appid=settings.WECHAT_APPID,
        )
    except DecryptError:
        return None
    group = payload.get("openGId")
    return group if isinstance(group, str) else None


def event_join_from_share(
    *, user: User, event_id: str, encrypted_data: str, iv: str
) -> EventLanding:
    """Join the event's community from its share card in the group chat, and land on it.

    The share ticket must come from the WeChat group the event's community is bound to: a card
    forwarded into another group does not join (nor create) another community, and answers
    404 like any event one cannot see. A member already in the community simply lands."""
    event = Event.objects.select_related("community").filter(pk=event_id).first()
    if event is None:
        raise NotFound(_("Event not found."))
    group = _group_of(user=user, encrypted_data=encrypted_data, iv=iv)
    if group is not None and group != event.community.open_gid:
        raise NotFound(_("Event not found."))
    membership = community_join_by_share_ticket(user=user, encrypted_data=encrypted_data, iv=iv)
    if membership.community_id != event.community_id:  # cannot happen after the check above
        raise NotFound(_("Event not found."))
    return EventLanding(membership=membership, event=event)

"""Community core data: users, communities, memberships, tokens, notifications."""

from community.models.communities import (
    Community,
    CommunityKind,
    JoinPolicy,
    Membership,
    MembershipStatus,
    Tier,
)
from community.models.notifications import Notification, NotificationStatus
from community.models.rules import RulesVersion
from community.models.subscriptions import SubscriptionCredit, SubscriptionDecision
from community.models.tokens import AuthToken
from community.models.users import User, WeChatSession

__all__ = [
    "AuthToken",
    "Community",
    "CommunityKind",
    "JoinPolicy",
    "Membership",
    "MembershipStatus",
    "Notification",
    "NotificationStatus",
    "RulesVersion",
    "SubscriptionCredit",
    "SubscriptionDecision",
    "Tier",
    "User",
    "WeChatSession",
]

"""URLs of the community core under /api/v1/."""

from django.urls import path

from community.api import auth, communities, members, rules, subscriptions

urlpatterns = [
    path("auth/wechat", auth.WeChatLoginView.as_view(), name="auth-wechat"),
    path("auth/dev", auth.DevLoginView.as_view(), name="auth-dev"),
    path("auth/logout", auth.LogoutView.as_view(), name="auth-logout"),
    path("me", auth.MeView.as_view(), name="me"),
    path(
        "subscriptions",
        subscriptions.SubscriptionsView.as_view(),
        name="subscription-templates",
    ),
    path("communities", communities.MyCommunitiesView.as_view(), name="communities"),
    path(
        "community-templates",
        rules.CommunityTemplatesView.as_view(),
        name="community-templates",
    ),
    path(
        "communities/join/share-ticket",
        communities.JoinByShareTicketView.as_view(),
        name="community-join-share-ticket",
    ),
    path(
        "communities/join/invite",
        communities.JoinByInviteView.as_view(),
        name="community-join-invite",
    ),
    path(
        "communities/<str:community_id>",
        communities.CommunityDetailView.as_view(),
        name="community-detail",
    ),
    path(
        "communities/<str:community_id>/leave",
        communities.LeaveView.as_view(),
        name="community-leave",
    ),
    path(
        "communities/<str:community_id>/rules",
        rules.RulesPageView.as_view(),
        name="community-rules",
    ),
    path(
        "communities/<str:community_id>/newcomers",
        rules.NewcomersView.as_view(),
        name="community-newcomers",
    ),
    path(
        "communities/<str:community_id>/rules/accept",
        communities.AcceptRulesView.as_view(),
        name="community-accept-rules",
    ),
    path(
        "communities/<str:community_id>/invite-code/regenerate",
        communities.RegenerateInviteView.as_view(),
        name="community-regenerate-invite",
    ),
    path(
        "communities/<str:community_id>/share-code",
        communities.ShareCodeView.as_view(),
        name="community-share-code",
    ),
    path(
        "communities/<str:community_id>/members",
        members.MemberListView.as_view(),
        name="member-list",
    ),
    path(
        "communities/<str:community_id>/members/<str:member_id>/approve",
        members.ApproveView.as_view(),
        name="member-approve",
    ),
    path(
        "communities/<str:community_id>/members/<str:member_id>/mute",
        members.MuteView.as_view(),
        name="member-mute",
    ),
    path(
        "communities/<str:community_id>/members/<str:member_id>/ban",
        members.BanView.as_view(),
        name="member-ban",
    ),
    path(
        "communities/<str:community_id>/members/<str:member_id>/restore",
        members.RestoreView.as_view(),
        name="member-restore",
    ),
    path(
        "communities/<str:community_id>/members/<str:member_id>/tier",
        members.TierView.as_view(),
        name="member-tier",
    ),
]

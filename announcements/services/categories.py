"""Announcement categories (per community, editable) and which of them a member follows."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from announcements.models import DEFAULT_CATEGORIES, Category, CategoryUnfollow
from community.authz import Action, ensure
from community.errors import Conflict, NotFound
from community.models import Community, Membership
from community.services.content import content_screen_strict
from community.text import member_text

CATEGORY_NAME_MAX = 20


def categories_create_defaults(*, community: Community) -> list[Category]:
    """Give a new community the default categories (行业资讯, 知识分享, 热点话题, 活动通知).
    Called by the community creation service inside its transaction."""
    return Category.objects.bulk_create(
        [
            Category(community=community, name=name, position=index)
            for index, name in enumerate(DEFAULT_CATEGORIES)
        ],
        ignore_conflicts=True,
    )


def category_get(*, community_id: str, category_id: str) -> Category:
    category = Category.objects.filter(community_id=community_id, pk=category_id).first()
    if category is None:
        raise NotFound(_("Category not found."), code="category_not_found")
    return category


def _save(category: Category) -> Category:
    try:
        with transaction.atomic():
            category.save()
    except IntegrityError as exc:
        raise Conflict(
            _("A category with this name already exists."), code="category_name_taken"
        ) from exc
    return category


def category_create(*, actor: Membership, name: str, position: int | None = None) -> Category:
    """Add a category (the admin tiers and holders of the publish-content capability)."""
    ensure(actor, Action.MANAGE_ANNOUNCEMENTS)
    name = member_text(name, field="name", max_length=CATEGORY_NAME_MAX)
    content_screen_strict(texts={"name": name}, user=actor.user)
    if position is None:
        position = Category.objects.filter(community_id=actor.community_id).count()
    return _save(Category(community_id=actor.community_id, name=name, position=position))


def category_update(
    *, actor: Membership, category_id: str, name: str | None = None, position: int | None = None
) -> Category:
    """Rename or move a category."""
    ensure(actor, Action.MANAGE_ANNOUNCEMENTS)
    category = category_get(community_id=actor.community_id, category_id=category_id)
    if name is not None:
        name = member_text(name, field="name", max_length=CATEGORY_NAME_MAX)
        if name != category.name:
            content_screen_strict(texts={"name": name}, user=actor.user)
        category.name = name
    if position is not None:
        category.position = position
    return _save(category)


def category_delete(*, actor: Membership, category_id: str) -> None:
    """Delete a category; its announcements stay, without a category (shown to everyone)."""
    ensure(actor, Action.MANAGE_ANNOUNCEMENTS)
    category_get(community_id=actor.community_id, category_id=category_id).delete()


def category_follow(*, membership: Membership, category_id: str, follow: bool) -> Category:
    """Follow (the default) or unfollow a category; idempotent either way. A muted member may
    choose what they read too."""
    ensure(membership, Action.VIEW)
    category = category_get(community_id=membership.community_id, category_id=category_id)
    if follow:
        CategoryUnfollow.objects.filter(
            community_id=membership.community_id, membership=membership, category=category
        ).delete()
    else:
        CategoryUnfollow.objects.bulk_create(
            [
                CategoryUnfollow(
                    community_id=membership.community_id, membership=membership, category=category
                )
            ],
            ignore_conflicts=True,
        )
    category.following = follow
    return category

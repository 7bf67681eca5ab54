"""``manage.py seed_demo``: a demo community with members, for the development server."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from community.models import Community, Membership, MembershipStatus, Tier, User

DEMO_MEMBERS = [
    ("群主老王", Tier.OWNER),
    ("管理员小李", Tier.ADMIN),
    ("版主阿美", Tier.MODERATOR),
    ("小张", Tier.MEMBER),
    ("小陈", Tier.MEMBER),
    ("小刘", Tier.MEMBER),
]


class Command(BaseCommand):
    help = "Create a demo community with members and a staff login (admin / admin)."

    @transaction.atomic
    def handle(self, *args, **options):
        community, created = Community.objects.get_or_create(
            invite_code="DEMO2026",
            defaults={
                "name": "周末徒步群",
                "description": "每周末一起去爬山的朋友们。",
                "rules_text": "1. 友善交流\n2. 不发广告\n3. 活动报名后请准时参加",
                "rules_version": 1,
            },
        )
        for nickname, tier in DEMO_MEMBERS:
            user, _ = User.objects.get_or_create(
                username=f"dev_{nickname}", defaults={"nickname": nickname}
            )
            Membership.objects.get_or_create(
                community=community,
                user=user,
                defaults={
                    "tier": tier,
                    "status": MembershipStatus.ACTIVE,
                    "rules_accepted_version": community.rules_version,
                },
            )
        admin, admin_created = User.objects.get_or_create(
            username="admin", defaults={"nickname": "超级管理员", "is_staff": True}
        )
        if admin_created:
            admin.is_superuser = True
            admin.set_password("admin")
            admin.save()
        moderator, moderator_created = User.objects.get_or_create(
            username="moderator", defaults={"nickname": "版主阿美的后台账号", "is_staff": True}
        )
        if moderator_created:
            moderator.set_password("moderator")
            moderator.save()
            Membership.objects.get_or_create(
                community=community,
                user=moderator,
                defaults={"tier": Tier.MODERATOR, "rules_accepted_version": 1},
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo community {community.name!r} (invite code {community.invite_code}) "
                f"{'created' if created else 'already there'}; admin login admin/admin, "
                "moderator login moderator/moderator; dev sign-in: POST /api/v1/auth/dev "
                '{"nickname": "小张"}.'
            )
        )

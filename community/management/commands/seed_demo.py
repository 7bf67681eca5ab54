"""``manage.py seed_demo``: a demo community with members, for the development server."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from announcements.models import Category
from community.models import Community, Membership, MembershipStatus, Tier, User
from community.timezones import localize
from events.models import Event
from polls.models import Poll
from polls.services import poll_create
from roles.models import Board, Role
from roles.services import assignment_create, roles_create_suggested, volunteer_create
from surveys.models import Choice, Question, QuestionType, Survey
from surveys.services import survey_publish

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
        owner = Membership.objects.select_related("community", "user").get(
            community=community, tier=Tier.OWNER
        )
        if not Poll.objects.filter(community=community).exists():
            self._demo_polls(owner)
        if not Survey.objects.filter(community=community).exists():
            self._demo_survey(owner)
        if not Event.objects.filter(community=community).exists():
            self._demo_events(owner)
        if not Board.objects.filter(community=community).exists():
            self._demo_board(owner)  # the board of the demo event (created above)
        if not Role.objects.filter(community=community).exists():
            self._demo_roles(owner)
        if not Category.objects.filter(community=community).exists():
            self._demo_announcements(owner)
        from insights.models import MemberDay

        if not MemberDay.objects.filter(community=community).exists():
            self._demo_activity(owner)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo community {community.name!r} (invite code {community.invite_code}) "
                f"{'created' if created else 'already there'}; admin login admin/admin, "
                "moderator login moderator/moderator; dev sign-in: POST /api/v1/auth/dev "
                '{"nickname": "小张"}.'
            )
        )

    def _demo_activity(self, owner: Membership) -> None:
        """Two months of generated activity (a fixed seed: the same every time) for the
        dashboard to show something on the first run: 24 more members joined over the two
        months, each with a habit (core, casual, fading, gone quiet), their member-days and
        the hourly counters (evenings and weekend mornings), then the summaries the hourly
        job would write."""
        import random

        from insights.models import HourActivity, MemberDay
        from insights.selectors import local_today
        from insights.services.summaries import community_summary_refresh

        community = owner.community
        rng = random.Random(2026)
        now = timezone.now()
        today = local_today(community, now)
        days = 60
        names = "阿杰 小雨 大伟 思思 老周 晓峰 佳佳 阿强 小美 子涵 浩然 欣怡"
        for i, name in enumerate((names + " " + names).split()[:24]):
            user, _ = User.objects.get_or_create(
                username=f"dev_demo{i:02d}", defaults={"nickname": f"{name}{i // 12 or ''}"}
            )
            Membership.objects.get_or_create(
                community=community,
                user=user,
                defaults={
                    "joined_at": now - timedelta(days=rng.randrange(1, days + 20)),
                    "rules_accepted_version": community.rules_version,
                },
            )
        members = list(
            Membership.objects.filter(community=community, status=MembershipStatus.ACTIVE)
        )
        rows, hours, last = [], {}, {}
        for m in members:
            habit = rng.choice([0.7, 0.35, 0.15, 0.05])  # chance of a visit on a given day
            fading = rng.random() < 0.25  # stops coming in the second month
            joined = localize(m.joined_at, community).date()
            for back in range(days):
                day = today - timedelta(days=back)
                if day < joined or (fading and back < 30) or rng.random() > habit:
                    continue
                votes, answers = rng.random() < 0.3, rng.random() < 0.1
                rows.append(
                    MemberDay(
                        community=community,
                        user_id=m.user_id,
                        day=day,
                        visits=rng.randint(1, 4),
                        votes=int(votes),
                        answers=int(answers),
                        signups=int(rng.random() < 0.05),
                        comments=rng.randint(0, 2),
                        messages=rng.randint(0, 30),
                    )
                )
                hour = rng.choice(
                    [8, 9, 12, 19, 20, 21, 22] if day.weekday() < 5 else [9, 10, 15, 20]
                )
                hours[(day, hour)] = hours.get((day, hour), 0) + 1 + votes + answers
                last[m.pk] = max(last.get(m.pk, day), day)
        MemberDay.objects.bulk_create(rows, batch_size=500)
        HourActivity.objects.bulk_create(
            HourActivity(community=community, day=d, hour=h, actions=n)
            for (d, h), n in hours.items()
        )
        for m in members:
            if m.pk in last:
                at = now - timedelta(days=(today - last[m.pk]).days)
                Membership.objects.filter(pk=m.pk).update(last_active_at=at)
        community_summary_refresh(community=community, now=now)

    def _demo_announcements(self, owner: Membership) -> None:
        """The default categories, a pinned notice asking for a read confirmation and a
        scheduled one (the content calendar shows both), through the services."""
        from datetime import timedelta

        from django.utils import timezone

        from announcements.services import announcement_create, categories_create_defaults

        categories = {c.name: c for c in categories_create_defaults(community=owner.community)}
        announcement_create(
            actor=owner,
            title="本周六香山徒步集合时间调整",
            body="<p>集合时间改为 <strong>7:30</strong>，地点不变。请大家确认已读。</p>",
            category_id=categories["活动通知"].pk,
            pinned=True,
            requires_confirmation=True,
        )
        announcement_create(
            actor=owner,
            title="冬季徒步装备清单",
            body="<h2>必备</h2><ul><li>保暖外套</li><li>防滑手套</li></ul>",
            category_id=categories["知识分享"].pk,
            publish_at=timezone.now() + timedelta(days=2),
        )

    def _demo_roles(self, owner: Membership) -> None:
        """The suggested roles (as a new community gets them) with holders assigned through
        the same services as the API, and one offer waiting for an admin's answer."""
        community = owner.community
        roles = {r.name: r for r in roles_create_suggested(community=community)}
        members = {
            m.user.nickname: m
            for m in Membership.objects.filter(community=community).select_related("user")
        }
        for nickname, role_name in [
            ("小张", "活动策划"),
            ("小陈", "新人欢迎"),
            ("版主阿美", "秩序维护"),
            ("小张", "内容整理"),
        ]:
            assignment_create(
                actor=owner, role_id=roles[role_name].pk, member_id=members[nickname].pk
            )
        volunteer_create(
            membership=members["小刘"],
            role_id=roles["活动策划"].pk,
            message="我周末都有空，可以帮忙。",
        )

    def _demo_polls(self, owner: Membership) -> None:
        """Two open polls, created through the same service as the API and the admin."""
        now = timezone.now()
        poll_create(
            actor=owner,
            title="这周末去哪里爬山？",
            kind="single",
            closes_at=now + timedelta(days=3),
            options=[{"label": "香山"}, {"label": "百望山"}, {"label": "八大处"}],
        )
        saturday = localize(now + timedelta(days=(5 - now.weekday()) % 7 or 7), owner.community)
        start = saturday.replace(hour=8, minute=0, second=0, microsecond=0)
        poll_create(
            actor=owner,
            title="集合时间",
            kind="time",
            closes_at=now + timedelta(days=2),
            options=[
                {"starts_at": start + timedelta(hours=h), "ends_at": start + timedelta(hours=h + 1)}
                for h in (0, 1, 2)
            ],
        )

    def _demo_board(self, owner: Membership) -> None:
        """The preparation board of the demo event (from the event template) when there is
        one, else a community board; a task that asks for volunteers, one with a checklist."""
        from events.models import Event
        from roles.services.boards import board_create
        from roles.services.boards_templates import board_create_for_event
        from roles.services.tasks_edit import checklist_item_add, task_create

        event = Event.objects.filter(community=owner.community).order_by("starts_at").first()
        if event is not None:
            board = board_create_for_event(actor=owner, event_id=event.pk)
        else:
            board = board_create(actor=owner, title="群务看板")
        helper = (
            Membership.objects.filter(community=owner.community, tier=Tier.MEMBER)
            .order_by("joined_at")
            .first()
        )
        photos = task_create(
            actor=owner,
            board=board,
            title="整理本周活动照片",
            due_at=timezone.now() + timedelta(days=2),
            labels=["内容"],
            assignee_ids=[helper.user_id] if helper else [],
        )
        checklist_item_add(actor=owner, task=photos, title="挑选 20 张")
        checklist_item_add(actor=owner, task=photos, title="发到群相册")
        task_create(
            actor=owner,
            board=board,
            title="需要3人搬物资",
            due_at=timezone.now() + timedelta(days=4),
            labels=["物资"],
            slots_total=3,
        )

    def _demo_survey(self, owner: Membership) -> None:
        """A published three-question survey with one display condition (authored as a
        moderator would in the admin, published through ``survey_publish``)."""
        community = owner.community
        survey = Survey.objects.create(
            community=community,
            author=owner.user,
            title="上次活动满意度调查",
            description="花一分钟告诉我们你的感受。",
            thank_you_text="谢谢你的反馈！",
        )
        Question.objects.create(
            survey=survey, order=1, type=QuestionType.RATING, title="整体打几分？", required=True
        )
        again = Question.objects.create(
            survey=survey,
            order=2,
            type=QuestionType.SINGLE_CHOICE,
            title="下次还会参加吗？",
            required=True,
        )
        Choice.objects.create(survey=survey, question=again, order=1, label="会")
        no = Choice.objects.create(survey=survey, question=again, order=2, label="不会")
        Question.objects.create(
            survey=survey,
            order=3,
            type=QuestionType.LONG_TEXT,
            title="为什么不会？",
            condition={
                "match": "all",
                "rules": [{"question_id": again.id, "operator": "equals", "value": no.id}],
            },
        )
        survey_publish(actor=owner, survey_id=survey.pk)

    def _demo_events(self, owner: Membership) -> None:
        """An open 接龙 with two names on it and a full event with a registration form that is
        full, with one member on the waitlist: created and signed up through the services."""
        from events import services as events

        now = timezone.now()
        community = owner.community
        members = {
            m.user.nickname: m
            for m in Membership.objects.select_related("community", "user").filter(
                community=community, tier=Tier.MEMBER
            )
        }
        saturday = localize(now + timedelta(days=(5 - now.weekday()) % 7 or 7), community)
        hike = events.event_create(
            actor=owner,
            mode="quick",
            title="周六香山接龙",
            starts_at=saturday.replace(hour=8, minute=30, second=0, microsecond=0),
            location_name="香山公园东门",
            capacity=12,
            max_guests=2,
        )
        events.registration_put(actor=members["小张"], event_id=hike.pk, guests=1)
        events.registration_put(actor=members["小陈"], event_id=hike.pk, note="带水")
        camp_day = saturday + timedelta(days=14)
        camp = events.event_create(
            actor=owner,
            mode="full",
            title="秋季露营",
            description="两天一夜，帐篷自备或租用。",
            starts_at=camp_day.replace(hour=9, minute=0, second=0, microsecond=0),
            ends_at=(camp_day + timedelta(days=1)).replace(hour=17, minute=0, second=0),
            location_name="怀柔喇叭沟门",
            capacity=3,
            max_guests=1,
            fee_note="AA，约 200 元/人",
            self_checkin_enabled=True,
            form={
                "questions": [
                    {
                        "id": "tent",
                        "type": "single_choice",
                        "title": "帐篷",
                        "required": True,
                        "choices": [
                            {"id": "own", "label": "自带"},
                            {"id": "rent", "label": "需要租"},
                        ],
                    },
                    {"id": "diet", "type": "short_text", "title": "饮食禁忌", "required": False},
                ]
            },
        )
        events.registration_put(
            actor=members["小张"], event_id=camp.pk, guests=1, answers={"tent": {"choice": "own"}}
        )
        events.registration_put(
            actor=members["小陈"],
            event_id=camp.pk,
            answers={"tent": {"choice": "rent"}, "diet": "不吃辣"},
        )
        events.registration_put(
            actor=members["小刘"], event_id=camp.pk, answers={"tent": {"choice": "rent"}}
        )  # full: waits in line

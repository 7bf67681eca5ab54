"""Suggested purpose, rules and settings per kind of group (work, study, interest), offered
when a community is created. Pure data: no Django models (the selector and the creation
service read it).

Rules texts use the rules page's one convention: a line starting with ``#`` begins a section."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class RulesTemplate:
    kind: str
    label: str
    purpose: str
    rules_text: str
    settings: dict[str, object] = field(default_factory=dict)


TEMPLATES: tuple[RulesTemplate, ...] = (
    RulesTemplate(
        kind="work",
        label=_("Work"),
        purpose="同事和合作伙伴交流工作、同步进展的群。",
        rules_text=(
            "# 交流范围\n只讨论与工作相关的话题，闲聊请移步其他群。\n"
            "# 信息安全\n不转发未公开的内部资料，不泄露客户信息。\n"
            "# 沟通礼仪\n工作时间内回复，重要事项用公告发布并请大家确认已读。"
        ),
        settings={
            "join_policy": "approval",
            "members_can_create_polls": False,
            "members_can_create_events": False,
        },
    ),
    RulesTemplate(
        kind="study",
        label=_("Study"),
        purpose="一起学习、互相督促、分享资料的群。",
        rules_text=(
            "# 学习为先\n分享学习资料和心得，提问前先搜索。\n"
            "# 打卡\n每周参与一次打卡或讨论。\n"
            "# 版权\n分享资料请注明出处，不传播盗版。"
        ),
        settings={
            "join_policy": "invite",
            "members_can_create_polls": True,
            "members_can_create_events": False,
        },
    ),
    RulesTemplate(
        kind="interest",
        label=_("Interest"),
        purpose="因共同爱好相聚，组织活动、交流经验的群。",
        rules_text=(
            "# 友善交流\n尊重每一位群友，不人身攻击，不发广告。\n"
            "# 活动\n活动通过小程序报名，无法参加请及时取消。\n"
            "# 安全\n户外活动量力而行，听从领队安排。"
        ),
        settings={
            "join_policy": "open",
            "members_can_create_polls": True,
            "members_can_create_events": True,
        },
    ),
)

BY_KIND = {template.kind: template for template in TEMPLATES}


def rules_sections(text: str) -> list[dict[str, str]]:
    """The rules text as sections ``{"title", "body"}``: a line starting with ``#`` begins a
    section titled by the rest of the line; text before the first such line is a section
    without a title. Empty sections are dropped."""
    sections: list[dict[str, str]] = []
    title, lines = "", []

    def close() -> None:
        body = "\n".join(lines).strip()
        if title or body:
            sections.append({"title": title, "body": body})

    for line in (text or "").splitlines():
        if line.startswith("#"):
            close()
            title, lines = line.lstrip("#").strip(), []
        else:
            lines.append(line)
    close()
    return sections

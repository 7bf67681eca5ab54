"""Text members publish: the normal form (``community.text``), and over HTTP for the community
core's texts (nicknames, the community's name, description and rules)."""

from __future__ import annotations

import json

import pytest

from community.errors import DomainError
from community.models import Community, Tier, User
from community.services.users import user_update_profile
from community.text import member_text, normalize_text, text_key
from tests.admin_forms import change_form

ZW = "\u200b"  # zero-width space
RLO = "\u202e"  # right-to-left override
INVISIBLE_ONLY = f"{ZW}\u200c\u200d\u200e\u200f\u202a\u202c\u2066\u2069\ufeff\u00ad {RLO}\u3000"


@pytest.mark.parametrize(
    ("raw", "published"),
    [
        ("爬山" + ZW, "爬山"),
        ("ＡＢＣ", "ABC"),  # full-width letters (NFKC)
        ("\u3000 周六  爬山 \t", "周六 爬山"),  # ideographic space, runs of spaces, tab
        (f"{RLO}txt.exe", "txt.exe"),
        ("a\u2066b\u2069c\ufeff", "abc"),
        ("soft\u00adhyphen", "softhyphen"),
        ("bell\x07 and nul\x00", "bell and nul"),
        ("ｶﾞ", "ガ"),  # half-width katakana composed
        ("第一行\n第二行", "第一行 第二行"),  # single-line text has no line breaks
        ("去哪里？（周六），好吗！", "去哪里？（周六），好吗！"),  # Chinese punctuation stays
        ("１２３ｋｍ。", "123km。"),
    ],
)
def test_the_normal_form(raw, published):
    assert normalize_text(raw) == published


def test_multiline_text_keeps_its_line_breaks():
    raw = "  第一条  \r\n\r\n\r\n\r\n第二条\u200b\t规则\n"
    assert normalize_text(raw, multiline=True) == "第一条\n\n第二条 规则"


@pytest.mark.parametrize(
    ("a", "b"), [("爬山", "爬山" + ZW), ("ＡＢＣ", "abc"), ("A  b", "a B"), ("Straße", "STRASSE")]
)
def test_look_alike_labels_share_a_key(a, b):
    assert text_key(a) == text_key(b)


def test_different_labels_keep_different_keys():
    assert text_key("爬山") != text_key("登山")


def test_the_service_helper_refuses_blank_and_overflow():
    with pytest.raises(DomainError) as blank:
        member_text(INVISIBLE_ONLY, field="title")
    assert blank.value.code == "blank" and blank.value.field == "title"
    assert member_text(INVISIBLE_ONLY, field="description", blank=True) == ""
    with pytest.raises(DomainError) as long:
        member_text("㍻" * 3, field="title", max_length=5)  # NFKC lengthens it to 6
    assert long.value.code == "max_length"


# --- over HTTP ----------------------------------------------------------------------------------
@pytest.fixture
def screened(wechat_server):
    """WeChat's content check (the fake server) passes everything; returns the texts it saw."""
    wechat_server.expect_request("/wxa/msg_sec_check", method="POST").respond_with_json(
        {"errcode": 0, "errmsg": "ok", "result": {"suggest": "pass", "label": 100}}
    )

    def seen() -> list[str]:
        return [
            json.loads(request.get_data())["content"]
            for request, _response in wechat_server.log
            if request.path == "/wxa/msg_sec_check"
        ]

    return seen


def _error(response, field: str) -> dict:
    assert response.status_code == 400, response.content
    return next(e for e in response.json()["errors"] if e["attr"] == field)


@pytest.mark.django_db
def test_a_nickname_is_published_in_normal_form(member, screened):
    membership, client = member
    response = client.patch("/api/v1/me", {"nickname": f" {RLO}小张{ZW} "}, format="json")
    assert response.status_code == 200, response.content
    assert User.objects.get(pk=membership.user_id).nickname == "小张"
    assert screened() == ["小张"]  # WeChat screens exactly what is published


@pytest.mark.django_db
def test_an_invisible_nickname_is_refused_and_nothing_is_saved(member):
    membership, client = member
    before = User.objects.get(pk=membership.user_id).nickname
    response = client.patch(
        "/api/v1/me", {"nickname": INVISIBLE_ONLY}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    error = _error(response, "nickname")
    assert error["code"] == "blank" and "invisible characters" in error["detail"]
    assert User.objects.get(pk=membership.user_id).nickname == before


@pytest.mark.django_db
def test_the_refusal_is_in_chinese_by_default(member):
    _membership, client = member
    response = client.patch("/api/v1/me", {"nickname": ZW * 3}, format="json")
    assert _error(response, "nickname")["detail"] == "去掉不可见字符和空格后，这段文字是空的。"


@pytest.mark.django_db
def test_the_development_login_nickname(api_client, settings):
    settings.DEV_LOGIN_ENABLED = True
    response = api_client.post("/api/v1/auth/dev", {"nickname": "ＸＩＡＯ" + ZW}, format="json")
    assert response.status_code == 200 and response.json()["user"]["nickname"] == "XIAO"
    refused = api_client.post("/api/v1/auth/dev", {"nickname": INVISIBLE_ONLY}, format="json")
    assert _error(refused, "nickname")["code"] == "blank"
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_community_texts_are_published_in_normal_form(make_member, community, screened):
    _admin, client = make_member(tier=Tier.ADMIN)
    body = {
        "name": f"周末{ZW}徒步群 ",
        "description": f"{RLO}每周六\r\n\r\n\r\n集合",
        "rules_text": "１. 友善\u3000交流\n2. 不发广告\u200f",
    }
    response = client.patch(f"/api/v1/communities/{community.pk}", body, format="json")
    assert response.status_code == 200, response.content
    community.refresh_from_db()
    assert community.name == "周末徒步群"
    assert community.description == "每周六\n\n集合"
    assert community.rules_text == "1. 友善 交流\n2. 不发广告"
    assert sorted(screened()) == sorted(
        ["周末徒步群", "每周六\n\n集合", "1. 友善 交流\n2. 不发广告"]
    )


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["name", "description", "rules_text"])
def test_invisible_community_texts_save_nothing(make_member, community, field, screened):
    _admin, client = make_member(tier=Tier.ADMIN)
    before = Community.objects.filter(pk=community.pk).values().get()
    body = {"name": "新名字", "description": "新介绍", "rules_text": "新规则", field: ZW + RLO}
    response = client.patch(f"/api/v1/communities/{community.pk}", body, format="json")
    if field == "name":
        assert _error(response, "name")["code"] == "blank"
        assert Community.objects.filter(pk=community.pk).values().get() == before
    else:  # description and rules may be empty: the invisible text is published as nothing
        assert response.status_code == 200, response.content
        assert getattr(Community.objects.get(pk=community.pk), field) == ""


# --- the admin path (services normalise what no serializer saw) ---------------------------------
@pytest.fixture
def admin_page(client, make_member):
    membership, _api = make_member(tier=Tier.ADMIN)
    membership.user.is_staff = True
    membership.user.save()
    client.force_login(membership.user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.mark.django_db
def test_the_community_admin_publishes_texts_in_normal_form(admin_page, community, screened):
    url = f"/admin/community/community/{community.pk}/change/"
    data = change_form(admin_page, url)
    data.update(name=f"{RLO}周末{ZW}徒步群", rules_text="１. 友善\u200e")
    response = admin_page.post(url, data, follow=True)
    assert response.status_code == 200
    community.refresh_from_db()
    assert (community.name, community.rules_text) == ("周末徒步群", "1. 友善")


@pytest.mark.django_db
def test_the_community_admin_refuses_an_invisible_name(admin_page, community, screened):
    url = f"/admin/community/community/{community.pk}/change/"
    before = Community.objects.filter(pk=community.pk).values().get()
    data = change_form(admin_page, url)
    data["name"] = ZW + RLO
    response = admin_page.post(url, data, follow=True)
    errors = [str(m) for m in response.context["messages"] if m.level_tag == "error"]
    assert any("invisible characters" in e for e in errors), errors
    assert Community.objects.filter(pk=community.pk).values().get() == before


@pytest.mark.django_db
def test_the_profile_service_refuses_an_invisible_nickname(member):
    membership, _client = member
    with pytest.raises(DomainError) as refused:
        user_update_profile(user=membership.user, nickname=INVISIBLE_ONLY)
    assert refused.value.code == "blank"

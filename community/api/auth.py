"""Sign in, sign out and my profile."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from community.api.serializers import (
    DevLoginIn,
    ProfileIn,
    TokenOut,
    UserOut,
    WeChatLoginIn,
)
from community.errors import NotFound
from community.services.tokens import token_revoke
from community.services.users import user_login_dev, user_login_wechat, user_update_profile
from community.throttling import AuthThrottle, WriteThrottle


def _token_response(user, issued) -> Response:
    body = TokenOut({"token": issued.raw, "expires_at": issued.expires_at, "user": user}).data
    return Response(body, status=status.HTTP_200_OK)


class WeChatLoginView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [AuthThrottle]

    @extend_schema(
        operation_id="loginWithWeChat",
        tags=["auth"],
        summary=gettext_lazy("Sign in with WeChat"),
        description=(
            gettext_lazy(
                "Exchange the code from `wx.login()` for an API token. WeChat's session_key stays on "
                "the server. Errors: `invalid_code` (40029), `code_used` (40163), `user_blocked` "
                "(40226), `wechat_rate_limited` (429), `wechat_busy` (503, retry)."
            )
        ),
        request=WeChatLoginIn,
        responses={200: TokenOut},
        examples=[
            OpenApiExample("Request", value={"code": "0a3Xk2ll2bwOXb4..."}, request_only=True),
            OpenApiExample(
                "Signed in",
                value={
                    "token": "q1vX...32 random bytes...",
                    "expires_at": "2026-12-25T20:00:00+08:00",
                    "user": {"id": "h7Kp2mQx9ZbR", "nickname": "", "avatar_url": ""},
                },
                response_only=True,
            ),
        ],
    )
    def post(self, request):
        data = WeChatLoginIn(data=request.data)
        data.is_valid(raise_exception=True)
        user, issued = user_login_wechat(code=data.validated_data["code"])
        return _token_response(user, issued)


class DevLoginView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [AuthThrottle]

    @extend_schema(
        operation_id="loginForDevelopment",
        tags=["auth"],
        summary=gettext_lazy("Development sign-in (DEBUG only)"),
        description=(
            gettext_lazy(
                "Signs in as a demo user named by `nickname` without WeChat. Answers 404 unless the "
                "server runs with DEBUG=1; never available in production."
            )
        ),
        request=DevLoginIn,
        responses={200: TokenOut},
    )
    def post(self, request):
        if not settings.DEV_LOGIN_ENABLED:
            raise NotFound(_("Not found."))
        data = DevLoginIn(data=request.data)
        data.is_valid(raise_exception=True)
        user, issued = user_login_dev(nickname=data.validated_data["nickname"])
        return _token_response(user, issued)


class LogoutView(APIView):
    @extend_schema(
        operation_id="logout",
        tags=["auth"],
        summary=gettext_lazy("Sign out"),
        description=gettext_lazy("Revokes the token used for this request."),
        request=None,
        responses={204: None},
    )
    def post(self, request):
        token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    throttle_classes = [WriteThrottle]

    @extend_schema(
        operation_id="getMyProfile",
        tags=["me"],
        summary=gettext_lazy("My profile"),
        responses={200: UserOut},
    )
    def get(self, request):
        return Response(UserOut(request.user).data)

    @extend_schema(
        operation_id="updateMyProfile",
        tags=["me"],
        summary=gettext_lazy("Update my profile"),
        description=gettext_lazy(
            "Nicknames are screened by WeChat's content check (`content_risky`)."
        ),
        request=ProfileIn,
        responses={200: UserOut},
        examples=[
            OpenApiExample(
                "Change nickname",
                value={"nickname": "小王", "avatar_url": "https://example.com/a.png"},
                request_only=True,
            )
        ],
    )
    def patch(self, request):
        data = ProfileIn(data=request.data)
        data.is_valid(raise_exception=True)
        user = user_update_profile(user=request.user, **data.validated_data)
        return Response(UserOut(user).data)

"""WeChat's message push endpoint (``/wechat/push``), outside the API: WeChat calls it, not
the mini-program, so it is not under the member token auth nor in the contract, and it
answers what WeChat expects, in plain text.

* ``GET`` is the URL check: a correct ``signature`` of ``timestamp`` and ``nonce`` with our
  token echoes ``echostr``; anything else answers 403.
* ``POST`` is a message in safe mode: 403 for a wrong or missing ``msg_signature`` (or a
  push not in safe mode), 400 for a body that is not a ciphertext of our key for our appid;
  otherwise the message is stored (once, whatever WeChat's retries) and we answer
  ``success`` at once: the answer is sent later by a task.
* 503 when the push is not configured (``WECHAT_PUSH_TOKEN``/``WECHAT_PUSH_AES_KEY``)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from assistant.push import PushQuery, configured_crypto, open_push
from assistant.push_crypto import PushError
from assistant.services import message_receive

logger = logging.getLogger(__name__)


def _plain(text: str, status: int = 200) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


def _query(request: HttpRequest) -> PushQuery:
    get = request.GET
    return PushQuery(
        signature=get.get("signature", ""),
        timestamp=get.get("timestamp", ""),
        nonce=get.get("nonce", ""),
        encrypt_type=get.get("encrypt_type", ""),
        msg_signature=get.get("msg_signature", ""),
        echostr=get.get("echostr", ""),
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
def push(request: HttpRequest) -> HttpResponse:
    """WeChat's URL check (GET) and message push (POST)."""
    crypto = configured_crypto()
    if crypto is None:
        return _plain("not configured", status=503)
    query = _query(request)
    if request.method == "GET":
        if query.echostr and crypto.url_check(
            signature=query.signature, timestamp=query.timestamp, nonce=query.nonce
        ):
            return _plain(query.echostr)
        logger.warning("assistant push: URL check with a wrong signature")
        return _plain("invalid signature", status=403)
    try:
        fields = open_push(
            crypto=crypto, query=query, body=request.body, fmt=settings.WECHAT_PUSH_FORMAT
        )
    except PushError as exc:
        logger.warning("assistant push refused: %s", exc.reason)
        if exc.reason == "signature":
            return _plain("invalid signature", status=403)
        return _plain("invalid message", status=400)
    message_receive(fields=fields)
    return _plain("success")

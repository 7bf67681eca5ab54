"""Redis killed and restarted during a vote storm (a private redis-server: the shared one is
never touched). The app's cache and throttles use it (REDIS_URL). Every vote answered 2xx is
counted and no other, no request fails while Redis is down (throttles fail open and log), and
login and throttles work again afterwards without restarting the app."""

from __future__ import annotations

import httpx
import redis

from tests.faults.storm import Storm, assert_tallies_exact, election
from tests.waiting import wait_for

MEMBERS = 12
SESSION = {"openid": "o-after-restart", "session_key": "c2Vzc2lvbi1rZXktMTIzNA=="}


def test_votes_exact_and_throttles_back_after_redis_restart(wechat_server, private_redis, live_app):
    wechat_server.expect_request("/sns/jscode2session").respond_with_json(SESSION)
    vote = election(MEMBERS)
    app = live_app(
        workers=2,
        threads=4,
        REDIS_URL=private_redis.url,
        CACHE_KEY_PREFIX="faults",
        WECHAT_API_BASE=wechat_server.url_for("/"),
        TEST_THROTTLE_AUTH="3/min",
    )
    store = redis.Redis.from_url(private_redis.url)
    with Storm(app.base_url, vote) as storm:
        wait_for(lambda: storm.sent >= 30, timeout=60, message="votes before the outage")
        # The throttles count in this Redis (the write throttle keys of the voters).
        assert any(b"throttle_writes" in key for key in store.keys("*"))
        private_redis.kill()
        during_from = storm.sent
        wait_for(lambda: storm.sent >= during_from + 30, timeout=60, message="votes, Redis down")
        private_redis.start()
        after_from = storm.sent
        wait_for(lambda: storm.sent >= after_from + 30, timeout=60, message="votes after")

    statuses = vote.statuses()
    assert set(statuses) == {200}, (statuses, storm.first_error_body)
    assert "cache unavailable" in app.log  # the outage was seen and logged, not hidden
    assert_tallies_exact(vote)

    # Throttles count again in the restarted (empty) Redis: 3 logins per minute per address.
    with httpx.Client(base_url=app.base_url, timeout=30) as client:
        login = {"code": "code-after-restart"}
        headers = {"X-Forwarded-For": "203.0.113.7", "Accept-Language": "en"}
        for _ in range(3):
            response = client.post("/api/v1/auth/wechat", json=login, headers=headers)
            assert response.status_code == 200, response.text
        token = response.json()["token"]
        refused = client.post("/api/v1/auth/wechat", json=login, headers=headers)
        assert refused.status_code == 429, refused.text
        assert refused.json()["errors"][0]["code"] == "throttled"
        assert any(b"throttle_auth" in key for key in store.keys("*"))
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200, me.text

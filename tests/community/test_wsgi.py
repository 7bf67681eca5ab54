"""The WSGI module loads the whole application before the first request and freezes it out of
the garbage collector's way (``community/wsgi.py``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import gc, json, sys
import community.wsgi
print(json.dumps({
    "frozen": gc.get_freeze_count(),
    "tracked": len(gc.get_objects()),
    "views_loaded": "surveys.api" in sys.modules and "polls.api" in sys.modules,
}))
"""


def test_a_server_process_starts_with_every_view_loaded_and_frozen():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    state = json.loads(done.stdout.strip().splitlines()[-1])
    assert state["views_loaded"]  # the URL conf was loaded before the first request
    # Everything loaded is out of the collector's walks; what is left for it is the handful
    # of objects the probe made since.
    assert state["frozen"] > 50_000
    assert state["tracked"] < 100

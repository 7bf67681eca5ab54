"""The SDK's generated types match openapi.yaml and the whole package passes `tsc --strict`."""

from __future__ import annotations

import subprocess

from tests.sdk.conftest import ROOT, SDK


def test_generated_types_are_current_with_openapi_yaml(sdk_installed, node, tmp_path):
    """Regenerating from openapi.yaml into a temporary directory gives exactly the committed
    src/generated: a contract change without `npm run generate` fails here."""
    done = subprocess.run(
        [node, "scripts/generate.mjs", str(ROOT / "openapi.yaml"), str(tmp_path)],
        cwd=SDK,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    committed = SDK / "src" / "generated"
    fresh = sorted(p.name for p in tmp_path.iterdir())
    assert fresh == sorted(p.name for p in committed.iterdir())
    stale = [
        name for name in fresh if (tmp_path / name).read_bytes() != (committed / name).read_bytes()
    ]
    assert not stale, (
        f"clients/miniprogram/src/generated/{stale} are stale against openapi.yaml: "
        "run `npm run generate` in clients/miniprogram and commit the result"
    )


def test_sdk_type_checks_under_tsc_strict(sdk_installed, sdk_test_build):
    """`npx tsc --noEmit --strict -p clients/miniprogram` (also noUncheckedIndexedAccess) passes for the
    SDK, and the strict build of tsconfig.test.json (``sdk_test_build``, shared with the Node
    tests) for the SDK with its flow test: a contract change that breaks the hand-written layer
    fails here."""
    done = subprocess.run(
        ["npx", "--no-install", "tsc", "--noEmit", "--strict", "-p", "tsconfig.json"],
        cwd=SDK,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"tsconfig.json:\n{done.stdout}{done.stderr}"


def test_sdk_request_layer_in_node(sdk_test_build, node):
    """clients/miniprogram/test/client.test.ts under node's test runner: GET/PUT/DELETE retried
    after 503 and network errors while POST is not, one silent re-login shared by concurrent 401s,
    typed error codes, and the wx.request / wx.login adapters."""
    done = subprocess.run(
        [node, "--test", str(sdk_test_build / "test" / "client.test.js")],
        cwd=SDK,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr

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


def test_sdk_type_checks_under_tsc_strict(sdk_installed):
    """`npx tsc --noEmit --strict -p clients/miniprogram` (also noUncheckedIndexedAccess) passes for the
    SDK and its flow test: a contract change that breaks the hand-written layer fails here."""
    for project in ("tsconfig.json", "tsconfig.test.json"):
        done = subprocess.run(
            ["npx", "--no-install", "tsc", "--noEmit", "--strict", "-p", project],
            cwd=SDK,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, f"{project}:\n{done.stdout}{done.stderr}"


def test_sdk_request_layer_in_node(sdk_installed, node):
    """clients/miniprogram/test/client.test.ts under node's test runner: GET/PUT/DELETE retried
    after 503 and network errors while POST is not, one silent re-login shared by concurrent 401s,
    typed error codes, and the wx.request / wx.login adapters."""
    build = subprocess.run(
        ["npx", "--no-install", "tsc", "-p", "tsconfig.test.json"],
        cwd=SDK,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    done = subprocess.run(
        [node, "--test", "dist-test/test/client.test.js"],
        cwd=SDK,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr

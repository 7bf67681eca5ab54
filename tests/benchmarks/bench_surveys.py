"""Surveys benchmark: submits over HTTP under concurrency, and export memory/throughput.

Run with the project's virtualenv (not collected by pytest)::

    .venv/bin/python tests/benchmarks/bench_surveys.py

1. Creates its own database ``bench_surveys_<pid>`` on the local PostgreSQL
   (``BENCH_PG``, default postgres://postgres@127.0.0.1:5432), migrates and seeds it.
2. Starts gunicorn on 127.0.0.1 (DEBUG=0, production settings plus the floor's URL:
   ``tests.benchmarks.survey_settings``) and measures, with ``CONCURRENCY`` (>= 32) members
   in parallel, in interleaved rounds:

   * ``baseline_rps`` on ``GET /api/v1/me``;
   * ``submit_rps`` on ``POST /surveys/{id}/submit`` of a 20-question survey (every type but
     none skipped; the survey allows several responses per member so the run is not limited
     by the number of members);
   * ``anon_submit_rps``, the same on an anonymous survey (k = 3), as in production: each
     response is sealed into the box, and the request that completes a batch (its statement
     returns the survey's ``box_waiting``) queues the mixing task after its commit, to run
     ``SURVEY_MIX_DELAY`` seconds later (published to a Redis queue of this run that no worker
     consumes; one at a time until it starts: ``community.queue_once``), while a thread of
     the benchmark does the worker's part: it runs the task's body (which clears that mark
     and mixes whatever waits) every ``SURVEY_MIX_DELAY`` seconds (50 ms when it is 0), so
     its locks compete with the submits as a worker's would (its Python is not in the
     server's figures, its PostgreSQL backend is in ``anon_submit``'s);
   * ``floor_rps`` on the minimal submit (``tests/benchmarks/survey_floor.py``): the same
     token authentication and one raw ``INSERT`` of the response and its answers.

   ``ratio`` = submit / baseline, ``submit_over_floor`` = submit / floor (``anon_*`` the
   same for the anonymous survey; ``anon_mixes`` / ``anon_mixed`` what the worker thread
   mixed, ``anon_mix_cpu_ms`` its CPU per mixed response (harness ``Mixer``: its Python, in
   no other figure, and its PostgreSQL backend's, which is part of ``anon_submit``'s
   ``postgres``), ``anon_box_consistent`` that every submitted response ended up mixed or
   waiting, ``anon_tasks_queued`` how many mixing tasks were published). CPU per request
   (``cpu_ms``) is read from ``/proc``: the
   gunicorn processes (``server``) and the PostgreSQL backends of the benchmark's database
   (``postgres``), over all rounds of each endpoint, divided by its successful requests.
3. Exports (skipped with ``BENCH_EXPORTS=0``) 1,000 and 100,000 submitted responses (CSV and XLSX), each in a fresh
   subprocess that runs the export task's body (``export_run``) and reports its own peak
   RSS (``resource.getrusage(RUSAGE_SELF).ru_maxrss`` at exit -- the same figure
   ``RUSAGE_CHILDREN`` gives a parent that only ran that child). ``export_peak_mb_*`` is the
   larger of the CSV and XLSX peaks; ``export_extra_mb_*`` the growth over the process's RSS
   just before the export started (Django and openpyxl already imported).
4. Drops the database. The last line printed is one JSON object with the figures.

Targets (issue 18): ``ratio`` >= 0.50 and ``submit_over_floor`` >= 0.65, named and anonymous.
"""

from __future__ import annotations

import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.harness import (  # noqa: E402  (the benchmarks' shared plumbing)
    ROOT,
    WORKERS,
    CpuMeter,
    Mixer,
    Totals,
    bench_env,
    database_create,
    database_drop,
    drive_processes,
    gunicorn_start,
    gunicorn_stop,
    log,
    rounds,
    task_queue_drop,
    task_queue_env,
    task_queue_length,
)

DB_NAME = f"bench_surveys_{os.getpid()}"
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "32"))
LOAD_PROCESSES = 4
DURATION = float(os.environ.get("BENCH_DURATION", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
THREADS = int(os.environ.get("BENCH_THREADS", "1"))
SMALL, LARGE = 1_000, int(os.environ.get("BENCH_LARGE", "100000"))
EXPORTS = os.environ.get("BENCH_EXPORTS", "1") != "0"

ENV = bench_env(
    DB_NAME,
    "tests.benchmarks.survey_settings",
    MEDIA_ROOT=str(Path(tempfile.gettempdir()) / f"{DB_NAME}-media"),
    # Mixing tasks are queued as in production (the web tier publishes to Redis) to a queue of
    # this run that no worker consumes and that is deleted at the end.
    **task_queue_env("surveys"),
)
os.environ.update(ENV)


# --- seeding --------------------------------------------------------------------------------
QUESTION_MIX = [
    *[("single_choice", 4)] * 4,
    *[("multiple_choice", 5)] * 2,
    ("dropdown", 8),
    *[("short_text", 0)] * 3,
    ("long_text", 0),
    *[("number", 0)] * 2,
    ("date", 0),
    *[("rating", 0)] * 2,
    ("nps", 0),
    ("likert", 0),
    ("matrix", 3),
    ("ranking", 4),
]
assert len(QUESTION_MIX) == 20


def build_survey(community, title: str, **fields):
    from surveys.models import Choice, Question, Survey

    survey = Survey.objects.create(community=community, title=title, status="published", **fields)
    for order, (kind, n_choices) in enumerate(QUESTION_MIX, start=1):
        question = Question.objects.create(
            survey=survey,
            order=order,
            type=kind,
            title=f"问题 {order} ({kind})",
            required=True,
            min_value=0 if kind == "number" else None,
            max_value=1000 if kind == "number" else None,
            scale_labels=["很差", "差", "一般", "好", "很好"]
            if kind in ("likert", "matrix")
            else [],
        )
        for i in range(n_choices):
            Choice.objects.create(
                question=question,
                order=i + 1,
                label=f"{'行' if kind == 'matrix' else '选项'} {i + 1}",
                is_row=kind == "matrix",
            )
    return survey


def answers_for(definition, rng: random.Random) -> dict:
    answers = {}
    for q in definition.questions:
        ids = [c.id for c in q.choices]
        kind = q.type
        if kind in ("single_choice", "dropdown"):
            answers[q.id] = {"choice": rng.choice(ids)}
        elif kind == "multiple_choice":
            answers[q.id] = {"choices": rng.sample(ids, rng.randint(1, len(ids)))}
        elif kind == "ranking":
            answers[q.id] = rng.sample(ids, len(ids))
        elif kind == "matrix":
            answers[q.id] = {r.id: rng.randint(1, 5) for r in q.rows}
        elif kind in ("short_text", "long_text"):
            answers[q.id] = rng.choice(["很好", "还可以,下次早点开始", "没意见", "场地有点小"])
        elif kind == "number":
            answers[q.id] = str(rng.randint(0, 1000))
        elif kind == "date":
            answers[q.id] = f"2025-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"
        elif kind == "nps":
            answers[q.id] = rng.randint(0, 10)
        else:  # rating, likert
            answers[q.id] = rng.randint(1, 5)
    return answers


def copy_responses(survey, users, count: int, definition) -> None:
    """Seed ``count`` submitted responses with COPY (the export reads the stored JSON)."""
    from django.db import connection
    from django.utils import timezone

    from community.ids import new_public_id

    rng = random.Random(7)
    samples = [json.dumps(answers_for(definition, rng), ensure_ascii=False) for _ in range(200)]
    now = timezone.now()
    columns = (
        "id, community_id, survey_id, respondent_id, status, answers, respondent_key, "
        "created_at, updated_at, submitted_at"
    )
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f"COPY surveys_response ({columns}) FROM STDIN") as copy:
            for i in range(count):
                copy.write_row(
                    (
                        new_public_id(),
                        survey.community_id,
                        survey.pk,
                        users[i % len(users)].pk,
                        "submitted",
                        samples[i % len(samples)],
                        "",
                        now,
                        now,
                        now,
                    )
                )
    type(survey).objects.filter(pk=survey.pk).update(submitted_count=count)


def seed() -> dict:
    import django

    django.setup()
    from community.models import Community, Membership, User
    from community.services.tokens import token_issue
    from surveys.definition import build_definition

    community = Community.objects.create(name="基准社区")
    users, tokens = [], []
    for i in range(max(CONCURRENCY, 40)):
        user = User.objects.create(username=f"bench{i}", nickname=f"成员{i}", openid=f"o-bench-{i}")
        Membership.objects.create(community=community, user=user)
        users.append(user)
        tokens.append(token_issue(user=user).raw)
    live = build_survey(community, "提交基准", allow_multiple_responses=True)
    anonymous = build_survey(
        community, "匿名提交基准", allow_multiple_responses=True, anonymous=True
    )
    small = build_survey(community, "导出 1k")
    large = build_survey(community, "导出 100k")
    definition = build_definition(live)
    rng = random.Random(1)
    bodies = [json.dumps({"answers": answers_for(definition, rng)}) for _ in range(64)]
    anonymous_definition = build_definition(anonymous)
    anonymous_bodies = [
        json.dumps({"answers": answers_for(anonymous_definition, rng)}) for _ in range(64)
    ]
    t0 = time.perf_counter()
    if EXPORTS:
        copy_responses(small, users, SMALL, build_definition(small))
        copy_responses(large, users, LARGE, build_definition(large))
        log(f"seeded {SMALL + LARGE} responses in {time.perf_counter() - t0:.1f}s")
    from django.db import connections

    connections.close_all()
    return {
        "tokens": tokens,
        "live": live.pk,
        "anonymous": anonymous.pk,
        "anonymous_bodies": anonymous_bodies,
        "small": small.pk,
        "large": large.pk,
        "bodies": bodies,
    }


def endpoints(data: dict) -> dict[str, tuple]:
    """The measured endpoints of a seeded run (``seed()``): name -> (method, path, bodies,
    expected status). ``profile_submit.py`` sends the same ones in-process."""
    live, anonymous = data["live"], data["anonymous"]
    return {
        "baseline": ("GET", "/api/v1/me", None, 200),
        "submit": ("POST", f"/api/v1/surveys/{live}/submit", data["bodies"], 201),
        "anon_submit": (
            "POST",
            f"/api/v1/surveys/{anonymous}/submit",
            data["anonymous_bodies"],
            201,
        ),
        "floor": ("POST", f"/api/v1/bench/surveys/{live}/floor-submit", data["bodies"], 201),
    }


def anonymous_box_check(survey_id: str, *, figures_ok: int) -> dict:
    """After the anonymous slices (and the warm-up): every submitted response is either mixed
    (a plaintext response) or still waiting in the box, the participations count them all,
    and the survey's counts (submitted, waiting in the box) agree."""
    from surveys.models import Participation, Response, SealedResponse, Survey

    survey = Survey.objects.get(pk=survey_id)
    mixed = Response.objects.filter(survey=survey, status="submitted").count()
    waiting = SealedResponse.objects.filter(survey=survey).count()
    counted = sum(Participation.objects.filter(survey=survey).values_list("submissions", flat=True))
    return {
        "mixed": mixed,
        "waiting": waiting,
        "participation_submissions": counted,
        "submitted_count": survey.submitted_count,
        "box_waiting": survey.box_waiting,
        "consistent": mixed + waiting == counted == survey.submitted_count >= figures_ok
        and survey.box_waiting == waiting,
    }


def combine(totals: Totals) -> dict:
    """One endpoint's figures over its interleaved rounds."""
    latencies = sorted(totals.latencies)
    return {
        "rps": round(totals.rps, 1),
        "ok": totals.ok,
        "errors": totals.errors,
        "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 1) if latencies else None,
        "rounds_rps": [round(s.rps, 1) for s in totals.slices],
        "cpu_ms": {"server": totals.cpu_ms("server"), "postgres": totals.cpu_ms("pg")},
    }


# --- exports --------------------------------------------------------------------------------
EXPORT_CHILD = r"""
import json, resource, sys, time
import django
django.setup()
import openpyxl  # imported before the baseline so only the export's growth is "extra"
from surveys.models import Export, Survey
from surveys.services import export_run
survey = Survey.objects.get(pk=sys.argv[1])
export = Export.objects.create(community_id=survey.community_id, survey=survey, format=sys.argv[2])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
export_run(export_id=export.pk)
elapsed = time.perf_counter() - t0
export.refresh_from_db()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"rows": export.rows_done, "seconds": elapsed, "peak_kb": peak,
                  "before_kb": before, "status": export.status, "size": export.file.size}))
"""


def run_export(survey_id: str, fmt: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", EXPORT_CHILD, survey_id, fmt],
        cwd=ROOT,
        env=ENV,
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["status"] == "done", result
    return result


def main() -> None:
    t_start = time.perf_counter()
    database_create(DB_NAME, ENV)
    gunicorn = None
    try:
        data = seed()
        gunicorn, base = gunicorn_start(
            ENV, threads=THREADS, worker_class="gthread" if THREADS > 1 else "sync", backlog=256
        )
        tokens = data["tokens"]
        meter = CpuMeter(gunicorn.pid, DB_NAME)
        phases = endpoints(data)
        clients = tokens[:CONCURRENCY] if len(tokens) >= CONCURRENCY else tokens

        def run(method, path, bodies, expect, seconds, cpu=None):
            return drive_processes(
                base,
                clients,
                method,
                path,
                bodies,
                expect,
                seconds,
                cpu,
                processes=LOAD_PROCESSES,
            )

        # warm-up (definition cache, connection pools) on every endpoint
        for phase in phases.values():
            run(*phase, 2.0)
        from django.conf import settings

        from surveys.tasks import mix_responses

        mixer = Mixer(
            lambda: mix_responses(data["anonymous"]),  # the task's body, run here
            what="the anonymous survey's box (the mix_responses task)",
            # as a worker runs the queued task: SURVEY_MIX_DELAY after the batch that queued it
            every=max(settings.SURVEY_MIX_DELAY, 0.05),
        )

        def measure(name, phase):
            if name != "anon_submit":
                return run(*phase, DURATION, meter)
            with mixer:
                return run(*phase, DURATION, meter)

        # Interleaved rounds, so load from elsewhere on the machine hits every figure alike.
        totals = rounds(
            {
                name: (lambda name=name, phase=phase: measure(name, phase))
                for name, phase in phases.items()
            },
            ROUNDS,
        )
        meter.close()
        box = anonymous_box_check(data["anonymous"], figures_ok=totals["anon_submit"].ok)
        tasks_queued = task_queue_length(ENV)  # warm-up included
        log(f"anonymous box: {mixer.mixes} mixes of {mixer.mixed} responses; {box}")
        mix_cost = mixer.cost_per_mixed()
        log(
            f"mixing, CPU per mixed response: Python {mix_cost['python']} ms (the worker thread, "
            f"not in the server's figure), PostgreSQL {mix_cost['postgres']} ms (in the "
            "anon_submit postgres figure)"
        )
        figures = {name: combine(t) for name, t in totals.items()}
        for name, t in totals.items():
            log(t.line(name))
        baseline, submit = figures["baseline"], figures["submit"]
        anon, floor = figures["anon_submit"], figures["floor"]
        gunicorn_stop(gunicorn)
        gunicorn = None

        exports = {}
        for size, survey_id in (("small", data["small"]), ("large", data["large"])):
            for fmt in ("csv", "xlsx") if EXPORTS else ():
                exports[(size, fmt)] = run_export(survey_id, fmt)
                log(f"export {size} {fmt}: {exports[(size, fmt)]}")

        def peak_mb(size):
            if not EXPORTS:
                return None
            return round(max(exports[(size, f)]["peak_kb"] for f in ("csv", "xlsx")) / 1024, 1)

        def extra_mb(size):
            if not EXPORTS:
                return None
            return round(
                max(
                    exports[(size, f)]["peak_kb"] - exports[(size, f)]["before_kb"]
                    for f in ("csv", "xlsx")
                )
                / 1024,
                1,
            )

        def rate(size, fmt):
            if not EXPORTS:
                return None
            e = exports[(size, fmt)]
            return round(e["rows"] / e["seconds"], 1)

        def over(a, b):
            return round(a["rps"] / b["rps"], 3) if b["rps"] else None

        result = {
            "submit_rps": submit["rps"],
            "baseline_rps": baseline["rps"],
            "floor_rps": floor["rps"],
            "anon_submit_rps": anon["rps"],
            "ratio": over(submit, baseline),
            "submit_over_floor": over(submit, floor),
            "anon_ratio": over(anon, baseline),
            "anon_submit_over_floor": over(anon, floor),
            "anon_mixes": mixer.mixes,
            "anon_mixed": mixer.mixed,
            "anon_mix_cpu_ms": mix_cost,
            "anon_box_consistent": box["consistent"],
            "anon_tasks_queued": tasks_queued,
            "floor_ratio": over(floor, baseline),
            "cpu_ms": {name: figure["cpu_ms"] for name, figure in figures.items()},
            "errors": {name: figure["errors"] for name, figure in figures.items()},
            "p95_ms": {name: figure["p95_ms"] for name, figure in figures.items()},
            "rounds_rps": {name: figure["rounds_rps"] for name, figure in figures.items()},
            "export_rows_per_s": rate("large", "csv"),
            "export_rows_per_s_xlsx": rate("large", "xlsx"),
            "export_peak_mb_small": peak_mb("small"),
            "export_peak_mb_large": peak_mb("large"),
            "export_extra_mb_small": extra_mb("small"),
            "export_extra_mb_large": extra_mb("large"),
            "export_rows_large": exports[("large", "csv")]["rows"] if EXPORTS else None,
            "concurrency": CONCURRENCY,
            "gunicorn_workers": WORKERS,
            "duration_s": DURATION * ROUNDS,
            "peak_measure": "ru_maxrss of the export subprocess (RUSAGE_SELF at its exit)",
            "runtime_s": round(time.perf_counter() - t_start, 1),
        }
        result["targets_met"] = bool(
            all(
                result[key] is not None and result[key] >= target
                for key, target in (
                    ("ratio", 0.50),
                    ("submit_over_floor", 0.65),
                    ("anon_ratio", 0.50),
                    ("anon_submit_over_floor", 0.65),
                )
            )
            and (
                not EXPORTS
                or result["export_peak_mb_large"] <= 1.5 * result["export_peak_mb_small"]
            )
            and not any(result["errors"].values())
            and result["anon_box_consistent"]
        )
    finally:
        gunicorn_stop(gunicorn)
        database_drop(DB_NAME)
        task_queue_drop(ENV)
        subprocess.run(["rm", "-rf", ENV["MEDIA_ROOT"]], check=False)
    print(json.dumps(result))


if __name__ == "__main__":
    _ = resource  # the children measure themselves; see the module docstring
    main()

"""``manage.py poll_recount <poll_id>`` / ``manage.py poll_recount --file box.json``: recount a
published ballot box and say whether it gives the published result.

With a poll id the publication is read from the database; with ``--file`` it is the JSON that
``GET /api/v1/polls/{id}/ballot-box`` returned, so a member can check a box without access to
the server. The count is ``polls.recount.recount`` (pure Python, the function the server counts
with). Exit status 0 when the recount matches, 1 (``CommandError``) when it does not or the box
is malformed. ``--receipt`` also finds the ballot of that receipt.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from polls.recount import CountingParameters, find_ballot, recount, results_match


class Command(BaseCommand):
    help = "Recount a published ballot box and check it against the published result."

    def add_arguments(self, parser):
        parser.add_argument("poll_id", nargs="?", help="A poll whose box was published.")
        parser.add_argument("--file", help="The JSON of GET /api/v1/polls/{id}/ballot-box.")
        parser.add_argument("--receipt", help="Also find the ballot of this receipt.")

    def handle(self, *args, poll_id=None, file=None, receipt=None, **options):
        if bool(poll_id) == bool(file):
            raise CommandError("Give a poll id or --file box.json (one of them).")
        box = self._from_file(file) if file else self._from_database(poll_id)
        try:
            params = CountingParameters.from_dict(box["counting"])
            ballots = box["ballots"]
            if not isinstance(ballots, list):
                raise ValueError("ballots is not a list")
            counted = recount(params, ballots)
        except (KeyError, TypeError, ValueError) as exc:
            raise CommandError(f"The ballot box is malformed: {exc}") from exc
        self.stdout.write(f"poll {box.get('poll_id')}: {len(ballots)} ballots ({params.kind})")
        self.stdout.write(json.dumps(counted, ensure_ascii=False, sort_keys=True))
        if receipt:
            mine = find_ballot(ballots, poll_id=str(box.get("poll_id")), receipt=receipt)
            found = json.dumps(mine["choices"], ensure_ascii=False) if mine else "not found"
            self.stdout.write(f"your ballot: {found}")
        if not results_match(counted, box.get("result") or {}):
            raise CommandError("MISMATCH: the recount differs from the published result.")
        self.stdout.write(self.style.SUCCESS("MATCH: the recount equals the published result."))

    def _from_file(self, path: str) -> dict[str, Any]:
        try:
            with open(path, encoding="utf-8") as handle:
                box = json.load(handle)
        except (OSError, json.JSONDecodeError) as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        if not isinstance(box, dict):
            raise CommandError(f"{path} is not a ballot box (a JSON object).")
        return box

    def _from_database(self, poll_id: str) -> dict[str, Any]:
        from polls.models import BallotBoxPublication

        publication = BallotBoxPublication.objects.filter(poll_id=poll_id).first()
        if publication is None:
            raise CommandError(f"Poll {poll_id} has no published ballot box.")
        return {
            "poll_id": publication.poll_id,
            "counting": publication.counting,
            "ballots": publication.ballots,
            "result": publication.result,
        }

"""Recompute a lucky draw from its publication: ``manage.py draw_verify --file draw.json`` or
``manage.py draw_verify --url https://.../api/v1/draws/<id>/publication [--token T]``.

Prints each round's winners as recomputed, then MATCH (exit 0) or MISMATCH with the problems
(exit 1). The procedure is ``games/verify.py`` (pure, standard library only: copy it anywhere)."""

from __future__ import annotations

import json
import sys
import urllib.request

from django.core.management.base import BaseCommand, CommandError

from games.verify import verify_publication


class Command(BaseCommand):
    help = "Recompute a lucky draw from its published JSON and say whether it matches."

    def add_arguments(self, parser):
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--file", help="the publication JSON (getDrawPublication's answer)")
        source.add_argument("--url", help="the publication's address")
        parser.add_argument("--token", help="bearer token for --url", default="")

    def handle(self, *args, file=None, url=None, token="", **options):
        try:
            if file:
                with open(file, encoding="utf-8") as handle:
                    doc = json.load(handle)
            else:
                if not url.startswith(("https://", "http://")):
                    raise CommandError("--url takes an http(s) address")
                request = urllib.request.Request(  # noqa: S310  (scheme checked above)
                    url, headers={"Accept": "application/json"}
                )
                if token:
                    request.add_header("Authorization", f"Bearer {token}")
                with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
                    doc = json.load(answer)
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read the publication: {exc}") from exc
        result = verify_publication(doc)
        for number, prize_id, entry_id in result.winners:
            self.stdout.write(f"round {number}: {prize_id} -> {entry_id}")
        if result.ok:
            self.stdout.write(f"MATCH ({result.rounds_checked} rounds recomputed)")
            return
        for problem in result.problems:
            self.stdout.write(f"problem: {problem}")
        self.stdout.write("MISMATCH")
        sys.exit(1)

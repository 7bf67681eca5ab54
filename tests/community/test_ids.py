"""Public ids: twelve characters of the look-alike-free alphabet, every one of them random."""

from __future__ import annotations

from collections import Counter

from community.ids import ALPHABET, PUBLIC_ID_LENGTH, new_public_id


def test_an_id_is_twelve_characters_of_the_alphabet_and_ids_do_not_repeat():
    ids = [new_public_id() for _ in range(20_000)]
    assert all(len(i) == PUBLIC_ID_LENGTH and set(i) <= set(ALPHABET) for i in ids)
    assert len(set(ids)) == len(ids)


def test_every_position_takes_every_character_about_equally_often():
    """One draw written in base 57: a mistake in the conversion (a digit never reached, the
    last positions always the same, a bias to the first characters) shows here."""
    draws = 57 * 400
    ids = [new_public_id() for _ in range(draws)]
    for position in range(PUBLIC_ID_LENGTH):
        counts = Counter(i[position] for i in ids)
        assert set(counts) == set(ALPHABET), position
        # 400 expected per character; a uniform draw stays well inside this (sd = 20).
        assert min(counts.values()) > 280 and max(counts.values()) < 520, (position, counts)

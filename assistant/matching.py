"""Matching a member's message against a community's keyword rules and FAQ entries (pure: no
Django, no database; the caller loads the rules and entries and acts on the result).

**Order.** A member who asks for a person (人工, 转人工, 客服...) is handed over before anything
else. Then the community's keyword rules, by ``priority`` (higher first), then by
*specificity*: an ``exact`` rule before a ``contains`` rule before a ``regex`` rule, and within
a kind the longer pattern first (``下次活动时间`` is more specific than ``活动``), the rule id
last so the order never depends on how the database returned them. Then the built-in live
triggers (下次活动, 规则, 投票) that the product answers from live data, then the FAQ entries,
and when nothing matches, the caller hands the conversation over.

**Normal form.** ``exact`` and ``contains`` compare normalised texts (:func:`normalize`: NFKC,
case-folded, without whitespace and punctuation, so ``下次 活动？`` equals ``下次活动``). A
``regex`` runs on the NFKC text with whitespace collapsed (punctuation kept: a pattern may want
it), case-insensitively.

**Regular expressions with a time limit.** Patterns are compiled with the ``regex`` package
(a drop-in for ``re`` with a ``timeout=`` on every match: the matcher checks the clock while it
backtracks, so a catastrophic pattern such as ``(a|aa)+$`` on ``"aaaa...!"`` stops after the
limit instead of holding a worker for minutes). A rule that runs out of time counts as "no
match" and its id is reported in :attr:`Match.timed_out`, so the caller can log it; one message
also has a total budget for all its patterns. Patterns are validated when saved
(:func:`validate_pattern`): a length limit, they must compile, must not match the empty text,
and must finish on probe texts within the limit."""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import regex

EXACT = "exact"
CONTAINS = "contains"
REGEX = "regex"
MATCH_KINDS = (EXACT, CONTAINS, REGEX)

#: Longest pattern a rule may hold (characters), for every kind.
PATTERN_MAX = 200
#: Longest text a pattern is run on; a member's message beyond it is cut (WeChat allows more,
#: but nothing a keyword rule answers needs it, and it bounds the work of a regex).
TEXT_MAX = 2000
#: Time one regex may take on one message, and all the regexes of one message together.
REGEX_TIMEOUT = 0.05
REGEX_BUDGET = 0.25
#: What a new pattern must finish on within the limit when it is saved.
_PROBES = ("a" * 64 + "!", "下次活动" * 16 + "？", "1" * 64 + "x", " " * 64 + "\n")

_SPECIFICITY = {EXACT: 3, CONTAINS: 2, REGEX: 1}

#: Texts that ask for a person (compared normalised; a message containing one is handed over).
HUMAN_REQUESTS = ("人工", "转人工", "客服", "真人", "找管理员", "联系管理员")

#: Built-in live answers: a trigger contained in the normalised message (longest first).
LIVE_NEXT_EVENT = "live_next_event"
LIVE_RULES = "live_rules"
LIVE_OPEN_POLLS = "live_open_polls"
LIVE_TRIGGERS: tuple[tuple[str, str], ...] = (
    ("下一次活动", LIVE_NEXT_EVENT),
    ("下次活动", LIVE_NEXT_EVENT),
    ("最近活动", LIVE_NEXT_EVENT),
    ("最近的活动", LIVE_NEXT_EVENT),
    ("活动时间", LIVE_NEXT_EVENT),
    ("群规", LIVE_RULES),
    ("规则", LIVE_RULES),
    ("群规则", LIVE_RULES),
    ("投票", LIVE_OPEN_POLLS),
)

# Everything that is neither a letter, a digit nor an ideograph: whitespace and punctuation
# (ASCII and full-width), symbols, emoji.
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


class PatternError(ValueError):
    """A pattern that cannot be saved; ``code`` says why (``pattern_too_long``,
    ``pattern_invalid``, ``pattern_matches_empty``, ``pattern_too_slow``, ``pattern_empty``)."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Rule:
    """A keyword rule as the matcher sees it (``id`` is the caller's, e.g. the public id)."""

    id: str
    kind: str
    pattern: str
    priority: int = 0


@dataclass(frozen=True)
class FaqCandidate:
    """An FAQ entry as the matcher sees it: its question and keywords."""

    id: str
    question: str
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class Match:
    """What answers a message: ``source`` is ``human_request``, ``rule``, ``live``, ``faq`` or
    ``none``; ``id`` the rule or entry id, or the live answer's name."""

    source: str
    id: str | None = None
    timed_out: tuple[str, ...] = field(default=())


def normalize(text: str) -> str:
    """The comparison form of a text: NFKC, case-folded, without whitespace, punctuation,
    symbols and emoji (``下次 活动？`` -> ``下次活动``, ``ＦＡＱ!`` -> ``faq``)."""
    folded = unicodedata.normalize("NFKC", text or "").casefold()
    return _NOT_WORD.sub("", folded)


def regex_text(text: str) -> str:
    """What a regex runs on: NFKC with whitespace collapsed, at most :data:`TEXT_MAX` chars."""
    return " ".join(unicodedata.normalize("NFKC", text or "").split())[:TEXT_MAX]


def _compile(pattern: str) -> regex.Pattern[str]:
    return regex.compile(pattern, regex.IGNORECASE | regex.V0)


def validate_pattern(kind: str, pattern: str) -> str:
    """The pattern as it is stored (stripped), or :class:`PatternError`. ``exact`` and
    ``contains`` need text that survives normalisation; a regex must compile, must not match
    the empty text (it would answer every message) and must finish on the probes in time."""
    if kind not in MATCH_KINDS:
        raise PatternError(f"unknown match kind {kind!r}", code="invalid_choice")
    pattern = (pattern or "").strip()
    if len(pattern) > PATTERN_MAX:
        raise PatternError(f"pattern longer than {PATTERN_MAX}", code="pattern_too_long")
    if kind != REGEX:
        if not normalize(pattern):
            raise PatternError("pattern has no letters or digits", code="pattern_empty")
        return pattern
    if not pattern:
        raise PatternError("empty pattern", code="pattern_empty")
    try:
        compiled = _compile(pattern)
    except (regex.error, OverflowError, RecursionError) as exc:
        raise PatternError(str(exc), code="pattern_invalid") from exc
    try:
        if compiled.search("", timeout=REGEX_TIMEOUT) is not None:
            raise PatternError("pattern matches the empty text", code="pattern_matches_empty")
        for probe in _PROBES:
            compiled.search(probe, timeout=REGEX_TIMEOUT)
    except TimeoutError as exc:
        raise PatternError("pattern takes too long", code="pattern_too_slow") from exc
    return pattern


def ordered_rules(rules: Iterable[Rule]) -> list[Rule]:
    """Rules in matching order: priority (higher first), specificity, id."""
    return sorted(
        rules,
        key=lambda r: (-r.priority, -_SPECIFICITY.get(r.kind, 0), -len(r.pattern), r.id),
    )


def _human_request(normalized: str) -> bool:
    return any(normalize(word) in normalized for word in HUMAN_REQUESTS)


def _rule_matches(
    rule: Rule, normalized: str, raw: str, *, deadline: float, timed_out: list[str]
) -> bool:
    if rule.kind == EXACT:
        return bool(normalized) and normalize(rule.pattern) == normalized
    if rule.kind == CONTAINS:
        needle = normalize(rule.pattern)
        return bool(needle) and needle in normalized
    if rule.kind == REGEX:
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out.append(rule.id)
            return False
        try:
            compiled = _compile(rule.pattern)
            return compiled.search(raw, timeout=min(REGEX_TIMEOUT, left)) is not None
        except TimeoutError:
            timed_out.append(rule.id)
            return False
        except (regex.error, OverflowError, RecursionError):
            return False  # saved before validation existed: it answers nothing
    return False


def match_rules(
    rules: Iterable[Rule], text: str, *, budget: float = REGEX_BUDGET
) -> tuple[Rule | None, tuple[str, ...]]:
    """The first rule (in :func:`ordered_rules` order) that matches ``text``, and the ids of
    the regex rules that ran out of time."""
    normalized = normalize(text[:TEXT_MAX] if text else "")
    raw = regex_text(text)
    deadline = time.monotonic() + budget
    timed_out: list[str] = []
    for rule in ordered_rules(rules):
        if _rule_matches(rule, normalized, raw, deadline=deadline, timed_out=timed_out):
            return rule, tuple(timed_out)
    return None, tuple(timed_out)


def live_trigger(text: str) -> str | None:
    """The built-in live answer the message asks for (下次活动, 规则, 投票), if any."""
    normalized = normalize(text)
    for trigger, name in sorted(LIVE_TRIGGERS, key=lambda t: -len(t[0])):
        if trigger in normalized:
            return name
    return None


def faq_score(entry: FaqCandidate, normalized: str) -> int:
    """How well an FAQ entry answers a normalised message; 0 when it does not. The question
    contained in the message, or the message (at least 2 characters) in the question, scores
    by the question's length; each keyword contained in the message adds its length."""
    if not normalized:
        return 0
    score = 0
    question = normalize(entry.question)
    if question and (question in normalized or (len(normalized) >= 2 and normalized in question)):
        score += 1000 + len(question)
    for keyword in entry.keywords:
        needle = normalize(keyword)
        if needle and needle in normalized:
            score += 10 * len(needle)
    return score


def match_faq(entries: Sequence[FaqCandidate], text: str) -> FaqCandidate | None:
    """The entry with the best :func:`faq_score` (ties: the earlier entry), or None."""
    normalized = normalize(text[:TEXT_MAX] if text else "")
    best: tuple[int, int] | None = None
    found: FaqCandidate | None = None
    for index, entry in enumerate(entries):
        score = faq_score(entry, normalized)
        if score > 0 and (best is None or (score, -index) > best):
            best, found = (score, -index), entry
    return found


def match_message(
    text: str,
    *,
    rules: Iterable[Rule] = (),
    faqs: Sequence[FaqCandidate] = (),
    budget: float = REGEX_BUDGET,
) -> Match:
    """What answers ``text``, in the order of the module docstring."""
    normalized = normalize(text[:TEXT_MAX] if text else "")
    if _human_request(normalized):
        return Match("human_request")
    rule, timed_out = match_rules(rules, text, budget=budget)
    if rule is not None:
        return Match("rule", rule.id, timed_out)
    live = live_trigger(text)
    if live is not None:
        return Match("live", live, timed_out)
    entry = match_faq(faqs, text)
    if entry is not None:
        return Match("faq", entry.id, timed_out)
    return Match("none", None, timed_out)

"""Tests for assistant.matching (pure Python: no Django, no database)."""

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.matching import (
    CONTAINS,
    EXACT,
    LIVE_NEXT_EVENT,
    LIVE_OPEN_POLLS,
    LIVE_RULES,
    PATTERN_MAX,
    REGEX,
    REGEX_TIMEOUT,
    FaqCandidate,
    PatternError,
    Rule,
    match_faq,
    match_message,
    match_rules,
    normalize,
    ordered_rules,
    validate_pattern,
)

PATHOLOGICAL_TEXT = "a" * 60 + "!"


def test_normalize_folds_width_case_space_and_punctuation():
    assert normalize("下次 活动？") == "下次活动"
    assert normalize("ＦＡＱ!") == "faq"
    assert normalize("  How   do I\u3000sign-up？ ") == "howdoisignup"
    assert normalize("🎉报名🎉") == "报名"
    assert normalize("") == ""


def test_exact_compares_normalised_texts():
    rule = Rule("r1", EXACT, "怎么报名")
    assert match_rules([rule], "怎么 报名？")[0] == rule
    assert match_rules([rule], "请问怎么报名")[0] is None


def test_contains_finds_the_pattern_anywhere():
    rule = Rule("r1", CONTAINS, "报名")
    assert match_rules([rule], "请问周六怎么报名呀")[0] == rule
    assert match_rules([rule], "周六去哪")[0] is None


def test_regex_is_case_insensitive_and_keeps_punctuation():
    rule = Rule("r1", REGEX, r"^(wifi|WLAN)\s*密码\?$")
    assert match_rules([rule], "WiFi 密码?")[0] == rule
    assert match_rules([rule], "wifi密码")[0] is None


def test_priority_first_then_specificity_then_id():
    low_exact = Rule("a", EXACT, "活动", priority=0)
    high_contains = Rule("b", CONTAINS, "活动", priority=5)
    assert match_rules([low_exact, high_contains], "活动")[0] == high_contains
    # Same priority: exact before contains before regex, longer before shorter.
    short = Rule("c", CONTAINS, "活动")
    long = Rule("d", CONTAINS, "活动时间")
    exact = Rule("e", EXACT, "活动时间")
    rx = Rule("f", REGEX, "活动.*")
    assert [r.id for r in ordered_rules([rx, short, long, exact])] == ["e", "d", "c", "f"]
    assert match_rules([rx, short, long], "活动时间是几点")[0] == long
    # Same everything: the id decides, whatever order the rules came in.
    twin_a, twin_b = Rule("x1", CONTAINS, "报名"), Rule("x2", CONTAINS, "报名")
    assert match_rules([twin_b, twin_a], "报名")[0] == twin_a


@given(st.lists(st.tuples(st.integers(-3, 3), st.sampled_from((EXACT, CONTAINS))), max_size=8))
@settings(max_examples=100, deadline=None)
def test_order_does_not_depend_on_input_order(specs):
    rules = [Rule(f"r{i}", kind, "报名", priority) for i, (priority, kind) in enumerate(specs)]
    assert ordered_rules(rules) == ordered_rules(list(reversed(rules)))
    winner, _ = match_rules(rules, "报名")
    if rules:
        best = max(r.priority for r in rules)
        assert winner.priority == best


def test_catastrophic_pattern_stops_within_the_time_limit():
    # (a|aa)+$ backtracks exponentially on "aaaa...!": without a limit this takes minutes.
    slow = Rule("slow", REGEX, r"(a|aa)+$")
    after = Rule("after", CONTAINS, "aaa", priority=-1)
    started = time.monotonic()
    winner, timed_out = match_rules([slow, after], PATHOLOGICAL_TEXT)
    elapsed = time.monotonic() - started
    assert timed_out == ("slow",)
    assert winner == after  # the worker went on to the next rule
    assert elapsed < 1.5, elapsed  # the limit is 50 ms; the matcher checks the clock in steps


def test_nested_quantifier_example_of_the_brief_finishes_quickly():
    # (a+)+$ is the textbook catastrophic pattern; the regex package's matcher does not
    # backtrack on it, and the time limit covers the ones it does (above).
    rule = Rule("r", REGEX, r"(a+)+$")
    started = time.monotonic()
    winner, timed_out = match_rules([rule], PATHOLOGICAL_TEXT)
    assert winner is None and timed_out == ()
    assert time.monotonic() - started < 1.0


def test_one_message_has_a_total_budget_for_its_regexes():
    rules = [Rule(f"s{i}", REGEX, r"(a|aa)+$") for i in range(20)]
    started = time.monotonic()
    winner, timed_out = match_rules(rules, PATHOLOGICAL_TEXT, budget=0.2)
    assert winner is None
    assert len(timed_out) == 20  # every one counted as no match, none ran past the budget
    assert time.monotonic() - started < 0.2 + 2 * REGEX_TIMEOUT + 1.5


@pytest.mark.parametrize(
    ("kind", "pattern", "code"),
    [
        (REGEX, "(unclosed", "pattern_invalid"),
        (REGEX, "a{2,1}", "pattern_invalid"),
        (REGEX, "x?", "pattern_matches_empty"),
        (REGEX, "", "pattern_empty"),
        (REGEX, r"(a|aa)+$", "pattern_too_slow"),
        (REGEX, "a" * (PATTERN_MAX + 1), "pattern_too_long"),
        (CONTAINS, "？！ ", "pattern_empty"),
        (EXACT, "b" * (PATTERN_MAX + 1), "pattern_too_long"),
        ("glob", "x", "invalid_choice"),
    ],
)
def test_validate_pattern_refuses(kind, pattern, code):
    with pytest.raises(PatternError) as info:
        validate_pattern(kind, pattern)
    assert info.value.code == code


def test_validate_pattern_accepts_and_strips():
    assert validate_pattern(REGEX, "  ^报名$ ") == "^报名$"
    assert validate_pattern(CONTAINS, " 报名 ") == "报名"


def test_human_request_wins_over_everything():
    rules = [Rule("r", CONTAINS, "报名", priority=100)]
    assert match_message("报名的事我要转人工", rules=rules).source == "human_request"
    assert match_message("客服在吗", rules=rules).source == "human_request"


def test_live_triggers():
    assert match_message("下次活动是什么时候？").id == LIVE_NEXT_EVENT
    assert match_message("群规是什么").id == LIVE_RULES
    assert match_message("有什么投票吗").id == LIVE_OPEN_POLLS


def test_a_rule_comes_before_a_live_trigger_and_the_faq():
    rule = Rule("r", CONTAINS, "下次活动", priority=0)
    faq = FaqCandidate("f", "下次活动在哪", ("下次活动",))
    assert match_message("下次活动在哪", rules=[rule], faqs=[faq]).id == "r"
    assert match_message("下次活动在哪", faqs=[faq]).source == "live"


def test_faq_by_keywords_and_question_containment():
    signup = FaqCandidate("signup", "怎么报名活动？", ("报名", "接龙"))
    fee = FaqCandidate("fee", "活动收费吗", ("收费", "费用", "AA"))
    entries = [signup, fee]
    assert match_faq(entries, "请问怎么报名活动") == signup  # the question in the message
    assert match_faq(entries, "收费吗") == fee  # the message in the question
    assert match_faq(entries, "费用怎么算") == fee  # a keyword
    assert match_faq(entries, "aa制吗") == fee  # keywords compared normalised
    assert match_faq(entries, "你好") is None
    assert match_faq(entries, "？") is None
    m = match_message("接龙在哪里", faqs=entries)
    assert (m.source, m.id) == ("faq", "signup")


def test_faq_prefers_the_best_score_then_the_earlier_entry():
    general = FaqCandidate("g", "活动", ("活动",))
    specific = FaqCandidate("s", "活动装备", ("装备", "活动装备"))
    assert match_faq([general, specific], "活动装备要带什么").id == "s"
    twin = FaqCandidate("t", "活动", ("活动",))
    assert match_faq([general, twin], "活动").id == "g"


def test_nothing_matches():
    m = match_message("今天天气不错", rules=[Rule("r", EXACT, "报名")], faqs=[])
    assert (m.source, m.id) == ("none", None)

"""Per-user rate limits counted for a whole batch of sends at once (in Redis when REDIS_URL is set)."""

import uuid

from delivery import ratelimit


def test_a_batch_counts_each_users_events_in_arrival_order(settings):
    settings.RATE_LIMIT_MESSAGES = 3
    settings.RATE_LIMIT_WINDOW_SECONDS = 60
    a, b = f"a-{uuid.uuid4().hex}", f"b-{uuid.uuid4().hex}"

    assert ratelimit.over_limit(ratelimit.MESSAGES, [a, a, b, a, a, b]) == [False, False, False, False, True, False]
    # The window remembers: a has used 4 (one over), b 2.
    assert ratelimit.over_limit(ratelimit.MESSAGES, [b, a, b]) == [False, True, True]
    assert ratelimit.over_limit(ratelimit.TYPING, [a]) == [False]  # another kind, another budget


def test_single_checks_and_batches_share_one_budget(settings):
    settings.RATE_LIMIT_MESSAGES = 2
    settings.RATE_LIMIT_WINDOW_SECONDS = 60
    a = f"a-{uuid.uuid4().hex}"
    ratelimit.check(ratelimit.MESSAGES, a)
    assert ratelimit.over_limit(ratelimit.MESSAGES, [a, a]) == [False, True]
    refusal = ratelimit.refusal(ratelimit.MESSAGES)
    assert refusal.code == "rate_limited" and refusal.details == {"limit": 2, "windowSeconds": 60}

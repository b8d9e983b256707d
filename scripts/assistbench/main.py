"""scripts/assist_bench: SSR with no history and with history, reply hit@3, suggest latency p99."""

from __future__ import annotations

import argparse
import time

import django

django.setup()

from assist.base import base_model  # noqa: E402
from assist.text import caret_of  # noqa: E402
from assistbench.corpus import conversation  # noqa: E402
from assistbench.latency import latency  # noqa: E402
from assistbench.simulate import replay  # noqa: E402


def wordfreq_completer(base):
    """The reference: 4 words by frequency alone, the typed prefix's most frequent first."""

    def complete(typed: str) -> list[str]:
        return base.by_prefix.get(caret_of(typed).prefix, [])[:4]

    return complete


def ssr(args) -> None:
    base = base_model()
    pairs = [conversation(f"typist{i}", f"carer{i}", args.messages, seed=i) for i in range(args.pairs)]
    typists = {f"typist{i}" for i in range(args.pairs)}
    started = time.perf_counter()
    rows = []
    for label, kwargs in [
        ("wordfreq unigram completer (reference)", {"learn": False, "completer": wordfreq_completer(base)}),
        ("base model only (no history)", {"learn": False}),
        (f"with history (after {args.history} messages)", {"learn": True}),
    ]:
        total = None
        for messages in pairs:
            tally = replay(messages, typists, base=base, measure_from=args.history, **kwargs)
            if total is None:
                total = tally
            else:
                for field in ("selections", "keystrokes", "replies_hit_at_3", "replies_asked"):
                    setattr(total, field, getattr(total, field) + getattr(tally, field))
        hit = f"{total.replies_hit_at_3 / total.replies_asked:.1%}" if total.replies_asked else "n/a"
        rows.append((label, f"{total.ssr:.1%}", hit, total.keystrokes))
    print(f"corpus: generated, {args.pairs} pairs x {args.messages} messages; measured on the typists' "
          f"messages from #{args.history} of each chat")  # fmt: skip
    print(f"{'':45} {'SSR':>7} {'reply hit@3':>12} {'keystrokes':>11}")
    for label, rate, hit, keys in rows:
        print(f"{label:45} {rate:>7} {hit:>12} {keys:>11}")
    print(f"({time.perf_counter() - started:.0f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=4, help="chats (typist + carer) in the corpus")
    parser.add_argument("--messages", type=int, default=5000, help="messages per chat")
    parser.add_argument("--history", type=int, default=4000, help="messages of each chat before measuring")
    parser.add_argument("--latency", action="store_true", help="also measure suggest latency (PostgreSQL + Redis)")
    parser.add_argument("--users", type=int, default=50, help="typists at once in the latency run")
    parser.add_argument("--duration", type=float, default=30, help="seconds of the latency run")
    parser.add_argument("--latency-history", type=int, default=2000, help="messages learned per typist first")
    parser.add_argument(
        "--aligned",
        action="store_true",
        help="start every typist's first call in the same instant (the worst case) instead of at random phases",
    )
    parser.add_argument("--pace-ms", type=float, default=500, help="each typist's pause between selections")
    args = parser.parse_args()
    ssr(args)
    if args.latency:
        latency(args)


if __name__ == "__main__":
    main()

"""Selection savings of a simulated eye-typist replaying a corpus, through the server's own
ranking and learning code (assist.language), in process.

For each message the typist sends: with suggestions for what is typed so far, pick a reply if it
is exactly the message (1 selection, then send); else the next word if it is offered and is
followed by a space or the end (1 selection: the word and a space); else type one character.
SSR = 1 - selections / (characters + 1 for send).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assist.language import model_apply, model_empty, model_prune, replies_rank, words_rank
from assist.text import caret_of, message_key

WORD_AT = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


@dataclass
class Tally:
    selections: int = 0
    keystrokes: int = 0  # characters + 1 per message
    replies_hit_at_3: int = 0
    replies_asked: int = 0

    @property
    def ssr(self) -> float:
        return 1 - self.selections / self.keystrokes if self.keystrokes else 0.0


def typing_steps(message: str):
    """A generator typing `message`: yields (typed so far, words passed over), receives the
    suggestions (words, replies) for it, and returns the selections it took, send included."""
    typed, selections, target, passed_over = "", 0, message_key(message), frozenset()
    while message_key(typed) != target:
        words, replies = yield typed, passed_over
        if any(message_key(r) == target for r in replies):
            return selections + 2
        start = len(typed) - len(caret_of(typed).typed_prefix)
        match = WORD_AT.match(message, start)
        picked = False
        if match and match.start() == start and len(typed) < match.end():
            word, end = match.group(0).lower(), match.end()
            if message[end : end + 1] in ("", " ") and word in (w.lower() for w in words):
                typed, picked = message[: end + 1], True
        if picked:
            passed_over = frozenset()
        else:
            typed += message[len(typed)]
            # The words shown were passed over, as long as the same word goes on.
            in_word = bool(caret_of(typed).typed_prefix)
            passed_over = (passed_over | {w.lower() for w in words}) if in_word else frozenset()
        selections += 1
    return selections + 1


def type_message(message: str, suggest) -> int:
    """Selections to enter and send `message`; `suggest(typed, passed_over) -> (words, replies)`."""
    steps = typing_steps(message)
    try:
        asked = next(steps)
        while True:
            asked = steps.send(suggest(*asked))
    except StopIteration as done:
        return done.value


def replay(messages, typists: set[str], *, learn: bool, measure_from: int = 0, base=None, completer=None) -> Tally:
    """Replay messages in order. `learn`: each user's model learns every message they send or
    receive once it is sent. Only typists' messages from index `measure_from` are measured."""
    models: dict[str, dict] = {}
    last_from: dict[tuple[str, str], tuple[int, str]] = {}
    tally = Tally()
    for index, m in enumerate(messages):
        model = models.setdefault(m.sender, model_empty())
        if m.sender in typists and index >= measure_from:
            incoming = last_from.get((m.recipient, m.sender))

            def suggest(typed, passed_over=frozenset(), model=model, incoming=incoming, m=m):
                if completer is not None:
                    return completer(typed), []
                words = words_rank(model, base, caret_of(typed), 4, passed_over, incoming[1] if incoming else None)
                replies = replies_rank(
                    model, base, text=typed, contact=m.recipient, incoming=incoming[1] if incoming and not typed else None,
                    phrases=[], limit=3,
                )  # fmt: skip
                return words, replies

            tally.selections += type_message(m.text, suggest)
            tally.keystrokes += len(m.text) + 1
            if completer is None:
                tally.replies_asked += 1
                tally.replies_hit_at_3 += any(message_key(r) == message_key(m.text) for r in suggest("")[1])
        if learn:
            reply_to = last_from.get((m.recipient, m.sender))
            model_apply(model, message_id=index, text=m.text, sent=True, contact=m.recipient, reply_to=reply_to)
            other = models.setdefault(m.recipient, model_empty())
            model_apply(other, message_id=index, text=m.text, sent=False, contact=m.sender)
            if index % 50 == 0:
                model_prune(model)
                model_prune(other)
        last_from[(m.sender, m.recipient)] = (index, m.text)
        last_from.pop((m.recipient, m.sender), None)
    return tally

"""How typed text is read: words, where the caret is, and the case the user typed in."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
SENTENCE_END = re.compile(r"[.!?]\s*$")
START = "<s>"  # the "previous word" at the start of a message or sentence


def words_of(text: str) -> list[str]:
    """Lower-case words, apostrophes kept inside them ("don't")."""
    return [w.replace("’", "'") for w in WORD.findall(text.lower())]


@functools.lru_cache(maxsize=1024)  # each message is learned by its two users in turn
def tokens_with_starts(text: str) -> tuple[str, ...]:
    """Words with START before each sentence: what next-word pairs are learned from."""
    out = [START]
    for piece in re.split(r"(?<=[.!?])\s+", text.strip()):
        words = words_of(piece)
        if words:
            if out[-1] != START:
                out.append(START)
            out.extend(words)
    return tuple(out)


def message_key(text: str) -> str:
    """A message compared case-insensitively, spacing normalised."""
    return " ".join(text.lower().split())


@dataclass(frozen=True)
class Caret:
    prefix: str  # the partial word being typed ("" after a space or at the start)
    typed_prefix: str  # the same, in the case the user typed it
    previous: str  # the word before it, or START


def caret_of(text: str) -> Caret:
    match = re.search(r"([^\W_]+(?:['’][^\W_]*)*)$", text)
    typed = match.group(1) if match else ""
    before = text[: len(text) - len(typed)]
    if not before.strip() or SENTENCE_END.search(before):
        previous = START
    else:
        tail = words_of(before[-100:])
        previous = tail[-1] if tail else START
    return Caret(prefix=typed.lower().replace("’", "'"), typed_prefix=typed, previous=previous)


def in_case_of(word: str, typed: str) -> str:
    """A suggestion in the case the user typed: "Hel" -> "Hello", "HEL" -> "HELLO"."""
    if len(typed) > 1 and typed.isupper():
        return word.upper()
    if typed[:1].isupper():
        return word[:1].upper() + word[1:]
    return "I" if word == "i" else word


def initials(text: str) -> str:
    return "".join(w[0] for w in words_of(text))

"""The base model every user starts from, built in memory from two packages, offline:

- word frequencies: wordfreq's English list (code Apache-2.0, data CC-BY-SA 4.0);
- next-word pairs and replies: chatterbot-corpus's English dialogues (BSD-3-Clause).

Built once per process on first use (about a second) and never written anywhere.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import chatterbot_corpus
import wordfreq
import yaml

from assist.text import START, message_key, tokens_with_starts, words_of

VOCABULARY_SIZE = 30_000
PREFIX_TOP = 8  # words kept per prefix, most frequent first
NEXT_TOP = 12  # next words kept per previous word
REPLY_MAX_LENGTH = 60
# Replies that fit almost any message: what an AAC user needs first when nothing else matches.
GENERIC_REPLIES = ["Yes", "No", "Thank you", "I don't know", "Okay", "Please wait", "I love you", "Not now"]


@dataclass
class BaseModel:
    unigram: dict[str, float] = field(default_factory=dict)  # word -> probability
    by_prefix: dict[str, list[str]] = field(default_factory=dict)
    next_words: dict[str, list[tuple[str, float]]] = field(default_factory=dict)  # prev -> [(word, p)]
    replies: list[str] = field(default_factory=list)  # sorted by lower-case key, for prefix search
    reply_keys: list[str] = field(default_factory=list)
    pairs: list[tuple[frozenset, str]] = field(default_factory=list)  # (words of a message, a reply)
    pairs_by_word: dict[str, list[int]] = field(default_factory=dict)

    def replies_starting(self, key: str, limit: int) -> list[str]:
        found, i = [], bisect_left(self.reply_keys, key)
        while i < len(self.reply_keys) and self.reply_keys[i].startswith(key) and len(found) < limit:
            found.append(self.replies[i])
            i += 1
        return found


def _dialogues() -> list[list[str]]:
    folder = Path(chatterbot_corpus.__file__).parent / "data" / "english"
    dialogues = []
    for path in sorted(folder.glob("*.yml")):
        for conversation in yaml.safe_load(path.read_text()).get("conversations") or []:
            lines = [str(line).strip() for line in conversation if isinstance(line, (str, int, float))]
            dialogues.append([line for line in lines if line])
    return dialogues


def _build() -> BaseModel:
    model = BaseModel()
    for word in wordfreq.top_n_list("en", VOCABULARY_SIZE):
        if words_of(word) == [word]:
            model.unigram[word] = wordfreq.word_frequency(word, "en")
    prefixes = defaultdict(list)
    for word in sorted(model.unigram, key=model.unigram.get, reverse=True):
        for end in range(len(word) + 1):
            bucket = prefixes[word[:end]]
            if len(bucket) < PREFIX_TOP:
                bucket.append(word)
    model.by_prefix = dict(prefixes)

    dialogues = _dialogues()
    pair_counts: dict[str, Counter] = defaultdict(Counter)
    reply_counts: Counter = Counter()
    shown: dict[str, str] = {}
    for lines in dialogues:
        for i, line in enumerate(lines):
            tokens = tokens_with_starts(line)
            for prev, word in zip(tokens, tokens[1:], strict=False):
                if word != START:
                    pair_counts[prev][word] += 1
            if len(line) <= REPLY_MAX_LENGTH:
                key = message_key(line)
                reply_counts[key] += 1
                shown.setdefault(key, line)
                if i > 0:
                    model.pairs.append((frozenset(words_of(lines[i - 1])), line))
    for prev, counts in pair_counts.items():
        total = sum(counts.values())
        model.next_words[prev] = [(w, c / total) for w, c in counts.most_common(NEXT_TOP)]
    for line in GENERIC_REPLIES:
        shown[message_key(line)] = line
    model.reply_keys = sorted(shown)
    model.replies = [shown[k] for k in model.reply_keys]
    index = defaultdict(list)
    for i, (words, _) in enumerate(model.pairs):
        for word in words:
            index[word].append(i)
    model.pairs_by_word = dict(index)
    return model


_model: BaseModel | None = None
_lock = threading.Lock()


def base_model() -> BaseModel:
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                _model = _build()
    return _model

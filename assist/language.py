"""One user's language model: plain JSON (stored per user in the database), how a message
changes it, how it stays bounded, and how suggestions are ranked from it and the base model.

Only the user's own messages, sent and received, ever enter their model; nothing here reads
anyone else's. Every change is reversible (`sign=-1`) so a removed message can be unlearned.
"""

from __future__ import annotations

import math

from assist.base import GENERIC_REPLIES, BaseModel
from assist.text import START, Caret, in_case_of, initials, message_key, tokens_with_starts, words_of

# Bounds of one user's model (README, Suggestions: its size at the bounds).
MAX_WORDS = 3000
MAX_PAIRS = 8000  # next-word pairs
MAX_MESSAGES = 1000
MAX_REPLY_PAIRS = 400
RECEIVED_WEIGHT = 0.3  # words the user read count less than words they chose
MAX_CONTACTS_PER_MESSAGE = 8
# Word ranking: user next-word, base next-word, user word, base word; tuned with scripts/assist_bench.
WEIGHTS = (0.45, 0.25, 0.2, 0.1)
GAIN_POWER = 0.0
CONTEXT_WEIGHT = 0.02


def model_empty() -> dict:
    return {"n": 0.0, "u": {}, "b": {}, "m": {}, "p": []}


def _add(counts: dict, key: str, amount: float) -> None:
    value = counts.get(key, 0.0) + amount
    if value > 1e-9:
        counts[key] = value
    else:
        counts.pop(key, None)


def model_apply(model: dict, *, message_id: int, text: str, sent: bool, contact: str, reply_to=None, sign: int = 1):
    """Learn (sign=1) or unlearn (sign=-1) one message the user sent or received.

    `reply_to`: (id, text) of the contact's message this one answered, for sent messages.
    """
    model.pop("_ranked", None)
    weight = sign * (1.0 if sent else RECEIVED_WEIGHT)
    tokens = tokens_with_starts(text)
    for prev, word in zip(tokens, tokens[1:], strict=False):
        if word == START:
            continue
        _add(model["u"], word, weight)
        model["n"] = max(0.0, model["n"] + weight)
        following = model["b"].setdefault(prev, {})
        _add(following, word, weight)
        if not following:
            del model["b"][prev]
    if not sent:
        if sign < 0:  # a reply pair is unlearned with either of its two messages
            model["p"] = [p for p in model["p"] if p[0] != message_id]
        return
    key = message_key(text)
    if sign > 0:
        entry = model["m"].setdefault(key, [text.strip(), 0, {}])
        entry[0], entry[1] = text.strip(), entry[1] + 1
        by_contact = entry[2]
        by_contact[contact] = by_contact.get(contact, 0) + 1
        while len(by_contact) > MAX_CONTACTS_PER_MESSAGE:
            del by_contact[min(by_contact, key=by_contact.get)]
        if reply_to is not None and words_of(reply_to[1]):
            model["p"].append([reply_to[0], message_id, sorted(set(words_of(reply_to[1]))), text.strip(), contact])
    else:
        entry = model["m"].get(key)
        if entry is not None:
            entry[1] -= 1
            if contact in entry[2]:
                entry[2][contact] -= 1
                if entry[2][contact] <= 0:
                    del entry[2][contact]
            if entry[1] <= 0:
                del model["m"][key]
        model["p"] = [p for p in model["p"] if p[1] != message_id]


def model_prune(model: dict) -> None:
    """Keep the model within its bounds: the rarest words, pairs and messages go first."""
    model.pop("_ranked", None)
    if len(model["u"]) > MAX_WORDS * 1.1:
        keep = sorted(model["u"].items(), key=lambda kv: kv[1], reverse=True)[:MAX_WORDS]
        model["u"] = dict(keep)
    pairs = sum(len(v) for v in model["b"].values())
    if pairs > MAX_PAIRS * 1.1:
        flat = sorted(((c, p, w) for p, f in model["b"].items() for w, c in f.items()), reverse=True)[:MAX_PAIRS]
        model["b"] = {}
        for count, prev, word in flat:
            model["b"].setdefault(prev, {})[word] = count
    if len(model["m"]) > MAX_MESSAGES * 1.1:
        keep = sorted(model["m"].items(), key=lambda kv: kv[1][1], reverse=True)[:MAX_MESSAGES]
        model["m"] = dict(keep)
    if len(model["p"]) > MAX_REPLY_PAIRS:
        model["p"] = model["p"][-MAX_REPLY_PAIRS:]


# --- ranking ----------------------------------------------------------------------------------


def words_rank(
    model: dict, base: BaseModel, caret: Caret, limit: int, passed_over=frozenset(), context: str | None = None
) -> list[str]:
    """At most `limit` whole words: completions of the partial word, or the next word.

    `passed_over`: words offered for this same word a selection ago that the user typed past:
    offering them again would waste the places. `context`: the contact's last message, whose
    words an answer often repeats ("Do you want tea?" - "Yes please, tea")."""
    prefix, prev = caret.prefix, caret.previous
    user_next = model["b"].get(prev, {})
    user_next_total = sum(user_next.values()) or 1.0
    base_next = dict(base.next_words.get(prev, ()))
    n = model["n"] or 1.0
    confidence = model["n"] / (model["n"] + 300.0)
    candidates = {w for w in user_next if w.startswith(prefix)}
    candidates.update(w for w in base_next if w.startswith(prefix))
    candidates.update(base.by_prefix.get(prefix, ()))
    echoed = {w for w in words_of(context or "") if w.startswith(prefix) and len(w) > 2}
    candidates.update(echoed)
    candidates.update(_most_used(model, prefix, 20))

    def score(word: str) -> float:
        probability = (
            WEIGHTS[0] * confidence * user_next.get(word, 0.0) / user_next_total
            + WEIGHTS[1] * base_next.get(word, 0.0)
            + WEIGHTS[2] * confidence * model["u"].get(word, 0.0) / n
            + WEIGHTS[3] * base.unigram.get(word, 0.0)
            + (CONTEXT_WEIGHT / len(echoed) if word in echoed else 0.0)
        )
        # What choosing it saves: the letters still to type (and the space it adds).
        return probability * max(len(word) - len(prefix), 0.5) ** GAIN_POWER

    candidates -= passed_over
    ranked = sorted(candidates, key=lambda w: (-score(w), w))[:limit]
    return [in_case_of(w, caret.typed_prefix) for w in ranked]


def _most_used(model: dict, prefix: str, limit: int) -> list[str]:
    """The user's most used words starting with `prefix` (the order is computed once per model)."""
    ranked = model.get("_ranked")
    if ranked is None:  # not stored: model_prune drops it, and the cache keeps it per version
        ranked = model["_ranked"] = sorted(model["u"], key=model["u"].get, reverse=True)
    found = []
    for word in ranked:
        if word.startswith(prefix):
            found.append(word)
            if len(found) == limit:
                break
    return found


def _jaccard(a: set, b) -> float:
    if not a or not b:
        return 0.0
    shared = len(a.intersection(b))
    return shared / (len(a) + len(b) - shared)


def replies_rank(
    model: dict,
    base: BaseModel,
    *,
    text: str,
    contact: str | None,
    incoming: str | None,
    phrases: list[str],
    limit: int,
) -> list[str]:
    """At most `limit` whole messages, best first."""
    scored: dict[str, tuple[float, str]] = {}
    typed_key = message_key(text)  # what is typed already is no suggestion

    def offer(candidate: str, score: float) -> None:
        key = message_key(candidate)
        if key and key != typed_key and (key not in scored or scored[key][0] < score):
            scored[key] = (score, candidate)

    typed = text.lstrip()
    key = message_key(typed)
    if key and typed[-1:].isspace():
        key += " "  # the next word has begun: "i " must not match "I'm"

    def as_typed(shown: str) -> str:
        whole = typed + shown[len(typed) :]
        return whole.upper() if len(typed.strip()) > 1 and typed.isupper() else whole

    if key:
        compact = key.replace(" ", "")
        for phrase in phrases:
            if message_key(phrase).startswith(key):
                offer(as_typed(phrase.lstrip()), 100.0)
            elif " " not in key and len(compact) >= 2 and initials(phrase) == compact:
                offer(phrase, 99.0)
        for stored, (shown, count, by_contact) in model["m"].items():
            if stored.startswith(key):
                offer(as_typed(shown), 10.0 + math.log1p(count + 2 * by_contact.get(contact, 0)))
        for shown in base.replies_starting(key, limit * 3):
            offer(as_typed(shown), 1.0 / (1 + len(shown)))
    else:
        if incoming:
            said = set(words_of(incoming))
            for _, _, received, reply, who in model["p"]:
                similarity = _jaccard(said, received)  # stored without repeats
                if similarity >= 0.3:
                    offer(reply, 5.0 + 3 * similarity + (0.5 if who == contact else 0.0))
            seen = set()
            for word in said:
                for i in base.pairs_by_word.get(word, ())[:200]:
                    if i not in seen:
                        seen.add(i)
                        words, reply = base.pairs[i]
                        similarity = _jaccard(said, words)
                        if similarity >= 0.4:
                            offer(reply, 2.0 + similarity)
        for shown, count, by_contact in model["m"].values():
            offer(shown, min(1.0, (count + 2 * by_contact.get(contact, 0)) / 10))
        for i, generic in enumerate(GENERIC_REPLIES):
            offer(generic, 0.01 - i / 1000)
    ranked = sorted(scored.values(), key=lambda sc: -sc[0])
    return [candidate for _, candidate in ranked[:limit]]

"""A generated replay corpus: two-person chats between a dwell typist and someone close.

No openly licensed corpus of two-person chats installs from the registries reachable here
(chitchat-dataset is reserved for an independent evaluation), so this one is generated from
templates written for this benchmark, seeded, the same on every run. Each typist has personal
habits (their own way of thanking, greeting, asking), which is what a per-user model learns: the
history figures on it are an upper estimate of what real chats give. None of its text comes from
the base model's corpus.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

NAMES = ["Maya", "Tom", "Priya", "Jonas", "Lena", "Sam", "Ade", "Rosa"]
FOODS = ["soup", "pasta", "curry", "toast", "porridge", "salad", "rice", "pancakes"]
DRINKS = ["tea", "water", "coffee", "juice", "hot chocolate"]
THINGS = ["the blanket", "my glasses", "the remote", "my phone charger", "the window", "the lights"]
SHOWS = ["the football", "the news", "a film", "the quiz show", "the cooking programme", "some music"]
PLACES = ["the garden", "the park", "the shop", "the hospital", "your work", "school", "the doctor"]
FEELINGS = ["tired", "happy", "a bit sore", "cold", "much better", "bored", "sleepy", "hungry"]
TIMES = ["tonight", "tomorrow", "this afternoon", "after lunch", "at the weekend", "later"]

# The carer's side: (template, what kind of answer it calls for)
PROMPTS = [
    ("How are you feeling {time}?", "feeling"),
    ("Good morning! Did you sleep well?", "sleep"),
    ("Do you want some {drink}?", "drink"),
    ("What would you like for dinner {time}?", "food"),
    ("Shall I put on {show}?", "show"),
    ("I'm going to {place}, do you need anything?", "need"),
    ("I'll be home {time}.", "ack"),
    ("{name} says hello and sends love.", "love"),
    ("Are you comfortable or shall I move your pillow?", "comfort"),
    ("Is it too warm in there?", "warm"),
    ("Did the nurse come today?", "nurse"),
    ("Love you, see you soon.", "love"),
]

# The typist's answers: each kind has several phrasings; each typist prefers some of them.
ANSWERS = {
    "feeling": ["I feel {feeling} today", "I am {feeling}", "Feeling {feeling} thanks", "a bit {feeling} but ok"],
    "sleep": ["Yes I slept well", "Not really, my back hurt", "I slept ok thanks", "No I was awake a lot"],
    "drink": ["Yes please, {drink} would be nice", "No thanks", "Can I have {drink} instead", "Yes please"],
    "food": ["Can we have {food}", "I would like {food} please", "{food} please", "Anything is fine"],
    "show": ["Yes please put on {show}", "Not now, I want to rest", "Can we watch {show} instead", "Yes please"],
    "need": ["Can you get {thing}", "No thanks, I have everything", "Please bring {food}", "Just come home soon"],
    "ack": ["Ok see you then", "Ok thank you", "Great, see you soon", "Ok love you"],
    "love": ["Love you too", "Say hello to {name} from me", "Thank you, love you", "That is nice, thanks"],
    "comfort": ["Please move my pillow", "I am comfortable thanks", "Can you help me sit up", "My legs need moving"],
    "warm": ["Yes please open the window", "No it is fine", "A bit cold actually", "Can you turn the heating down"],
    "nurse": ["Yes she came this morning", "Not yet", "Yes, she changed the dressing", "No, nobody came"],
}
# Things the typist starts on their own.
OPENERS = [
    "Can you help me with {thing}",
    "When are you coming home",
    "I need the toilet please",
    "Please call me when you can",
    "I am {feeling}",
    "Can you bring {drink}",
    "I want to watch {show}",
    "Thank you for today",
    "Please come here",
    "Where is {thing}",
]


@dataclass
class Message:
    sender: str
    recipient: str
    text: str


def _fill(template: str, rng: random.Random, likes: dict) -> str:
    values = {
        "name": rng.choice(likes["names"]),
        "food": rng.choice(likes["foods"]),
        "drink": rng.choice(likes["drinks"]),
        "thing": rng.choice(THINGS),
        "show": rng.choice(likes["shows"]),
        "place": rng.choice(PLACES),
        "feeling": rng.choice(FEELINGS),
        "time": rng.choice(TIMES),
    }
    text = template.format(**values)
    return text[0].upper() + text[1:]


def conversation(typist: str, carer: str, messages: int, seed: int) -> list[Message]:
    """`messages` messages between one typist and one carer, alternating turns loosely."""
    rng = random.Random(seed)
    likes = {
        "names": rng.sample(NAMES, 3),
        "foods": rng.sample(FOODS, 3),
        "drinks": rng.sample(DRINKS, 2),
        "shows": rng.sample(SHOWS, 3),
    }
    # The typist's habits: a preferred phrasing per kind (70%), the others now and then.
    habits = {kind: rng.randrange(len(options)) for kind, options in ANSWERS.items()}
    out: list[Message] = []
    while len(out) < messages:
        if rng.random() < 0.25:
            out.append(Message(typist, carer, _fill(rng.choice(OPENERS), rng, likes)))
            out.append(
                Message(carer, typist, _fill(rng.choice(["Ok, coming", "Sure", "Of course", "On my way"]), rng, likes))
            )
            continue
        prompt, kind = rng.choice(PROMPTS)
        out.append(Message(carer, typist, _fill(prompt, rng, likes)))
        options = ANSWERS[kind]
        choice = habits[kind] if rng.random() < 0.7 else rng.randrange(len(options))
        out.append(Message(typist, carer, _fill(options[choice], rng, likes)))
    return out[:messages]

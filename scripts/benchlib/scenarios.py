"""What one measurement asks of chatload: closed loop (USERSxWINDOW) or open loop (USERS@RATE)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scenario:
    name: str
    users: int
    window: int | None = None  # closed loop
    rate: int | None = None  # open loop, messages/s across all senders

    @classmethod
    def parse(cls, text: str) -> "Scenario":
        text = text.strip().lower()
        users, sep, n = text.partition("x") if "x" in text else text.partition("@")
        if not sep or not users.isdigit() or not n.isdigit() or int(users) < 2 or int(users) % 2 or int(n) < 1:
            raise ValueError(f"scenario {text!r}: USERSxWINDOW or USERS@RATE, users even, numbers positive")
        return cls(text, int(users), window=int(n)) if sep == "x" else cls(text, int(users), rate=int(n))

    def args(self) -> list[str]:
        return ["--window", str(self.window)] if self.window else ["--rate", str(self.rate)]

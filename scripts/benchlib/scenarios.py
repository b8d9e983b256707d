"""What one measurement is: chat load through chatload, idle sockets for memory, or REST load.

- `USERSxWINDOW`: closed loop, USERS sockets in pairs, WINDOW messages in flight per sender.
- `USERS@RATE`: open loop, RATE messages/s across all senders.
- `idle` / `idleN`: N (default 1000) registered, idle sockets held; server RSS per socket.
- `rest` / `restN`: the REST routes under N (default 32) concurrent HTTP connections.
- `drops` / `dropsN`: N (default 1000) users under load, half of whose transports drop and
  reconnect (connection state recovery); lost and duplicated messages.
- `storm` / `stormN`: N (default 1000) registered sockets whose transports all drop at once and
  reconnect; the time until all are registered again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

IDLE_SOCKETS = 1000
REST_CONNECTIONS = 32
DROPS_USERS = 1000
STORM_SOCKETS = 1000
DEFAULT_COUNTS = {"idle": IDLE_SOCKETS, "rest": REST_CONNECTIONS, "drops": DROPS_USERS, "storm": STORM_SOCKETS}


@dataclass(frozen=True)
class Scenario:
    name: str
    users: int  # sockets (chat, idle) or HTTP connections (rest)
    window: int | None = None  # closed loop
    rate: int | None = None  # open loop, messages/s across all senders
    kind: str = "chat"  # chat | idle | rest | drops | storm

    @classmethod
    def parse(cls, text: str) -> Scenario:
        text = text.strip().lower()
        m = re.fullmatch(r"(idle|rest|drops|storm)(\d*)", text)
        if m:
            kind, n = m.group(1), m.group(2)
            count = int(n) if n else DEFAULT_COUNTS[kind]
            if count < 1:
                raise ValueError(f"scenario {text!r}: the count must be positive")
            return cls(text, count, kind=kind)
        users, sep, n = text.partition("x") if "x" in text else text.partition("@")
        if not sep or not users.isdigit() or not n.isdigit() or int(users) < 2 or int(users) % 2 or int(n) < 1:
            raise ValueError(
                f"scenario {text!r}: USERSxWINDOW, USERS@RATE (users even, numbers positive), "
                "idle[N], rest[N], drops[N] or storm[N]"
            )
        return cls(text, int(users), window=int(n)) if sep == "x" else cls(text, int(users), rate=int(n))

    def args(self) -> list[str]:
        return ["--window", str(self.window)] if self.window else ["--rate", str(self.rate)]

"""What every scenario shares: the private services, the checks it reports, and its clean-up."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from faultlib.chat import ChatClient
from faultlib.cluster import Server, create_users, server_env
from faultlib.services import PrivatePostgres, PrivateRedis


@dataclass
class Check:
    name: str
    passed: bool
    detail: str = ""


@dataclass
class Context:
    workdir: Path
    short: bool
    postgres: PrivatePostgres
    redis: PrivateRedis
    nginx_bin: str | None
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    figures: dict[str, str] = field(default_factory=dict)


class Stage(contextlib.AsyncExitStack):
    """A scenario's servers and clients, all stopped when it ends (even by its time bound)."""

    def __init__(self, ctx: Context, name: str):
        super().__init__()
        self.ctx, self.name = ctx, name
        self.servers: list[Server] = []
        self.clients: list[ChatClient] = []
        self.checks: list[Check] = []
        self.push_async_callback(self._teardown)

    def server(self, label: str, redis_url: str | None = None, **env) -> Server:
        url = self.ctx.redis.url() if redis_url is None else redis_url
        server = Server(self.ctx.workdir, f"{self.name}-{label}", server_env(self.ctx.postgres.url, url, **env))
        self.servers.append(server)
        return server.start()

    def users(self, server: Server, count: int, tag: str = "") -> list[str]:
        return create_users(server, f"{self.name}{tag}_{self.ctx.run_id}", count)

    def client(self, url: str, clerk_id: str, **options) -> ChatClient:
        client = ChatClient(url, clerk_id, **options)
        self.clients.append(client)
        return client

    def check(self, name: str, passed: bool, detail: str = "") -> None:
        self.checks.append(Check(f"{self.name}: {name}", bool(passed), detail))

    def json_logs_check(self) -> None:
        bad = [line for server in self.servers for line in server.non_json_lines()]
        self.check("every server log line is JSON", not bad, f"{len(bad)} other line(s): {bad[:2]}" if bad else "")

    async def _teardown(self) -> None:
        for client in self.clients:
            await client.close()
        for server in self.servers:
            server.stop()

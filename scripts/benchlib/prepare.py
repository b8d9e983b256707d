"""One-time preparation under BENCH_WORKDIR (outside the repository): the load tools, Bun,
and a runnable copy of the old server. The Python relay ceiling runs on this repository's own
virtualenv.

The old server is never part of this repository. Its copy is made from BASELINE_DIR (its
`app/apps/server` folder, or a git clone of the old monorepo) and adapted in three ways, in the
copy only: its Neon HTTP driver becomes postgres-js so it can talk to a local PostgreSQL, its
monorepo-only dependency specs (`workspace:`, `catalog:`) get the versions the monorepo pins, and
a small entry file binds its two ports to 127.0.0.1 instead of every interface.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

# The old monorepo's root package.json `catalog:` versions.
CATALOG = {"zod": "^4.1.11", "typescript": "^5.8.2", "tsdown": "^0.15.5", "dotenv": "^17.2.2"}

CONNECTIONS_TS = """\
// Written by BioSync's scripts/bench: postgres-js instead of the Neon HTTP driver, for a local PostgreSQL.
import postgres from 'postgres';
import { drizzle } from 'drizzle-orm/postgres-js';

const sql = postgres(process.env.DATABASE_URL!);
export const db = drizzle({ client: sql });
"""

LOOPBACK_TS = """\
// Written by BioSync's scripts/bench: node:http servers listen on 127.0.0.1 unless told otherwise.
import http from 'node:http';
const listen = http.Server.prototype.listen;
http.Server.prototype.listen = function (...args: any[]) {
  if (typeof args[0] === 'number' && (args.length === 1 || typeof args[1] === 'function')) {
    args.splice(1, 0, '127.0.0.1');
  }
  return listen.apply(this, args as any);
};
"""

ENTRY_TS = """\
// Written by BioSync's scripts/bench: the unchanged server, with Bun.serve on 127.0.0.1.
import './bench-loopback.ts';
import server from './src/index.ts';
export default { ...server, hostname: '127.0.0.1' };
"""


def log(*a):
    print("[bench]", *a, file=sys.stderr, flush=True)


def run(argv, **kw):
    out = subprocess.run(argv, capture_output=True, text=True, **kw)
    if out.returncode:
        raise RuntimeError(f"{' '.join(map(str, argv))} failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    return out


def tools(source: Path, workdir: Path) -> Path:
    """chatload.mjs and the ceilings, with socket.io-client installed."""
    if (source / "node_modules" / "socket.io-client").is_dir():
        return source
    dest = workdir / "tools"
    if not (dest / "node_modules" / "socket.io-client").is_dir():
        log(f"copying the load tools from {source} and running npm install")
        shutil.copytree(source, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns("node_modules", "results"))
        run(["npm", "install", "--no-audit", "--no-fund"], cwd=dest, timeout=600)
    return dest


def autocannon(tools_dir: Path, workdir: Path) -> Path:
    """The autocannon HTTP load generator: the tools' own (a devDependency there), else
    `npm install autocannon@8` into BENCH_WORKDIR."""
    for base in (tools_dir, workdir / "autocannon"):
        cli = base / "node_modules" / "autocannon" / "autocannon.js"
        if cli.is_file():
            return cli
    log("installing autocannon from the npm registry")
    dest = workdir / "autocannon"
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "package.json").write_text('{"private": true}\n')
    run(["npm", "install", "--no-audit", "--no-fund", "autocannon@^8.0.0"], cwd=dest, timeout=600)
    return dest / "node_modules" / "autocannon" / "autocannon.js"


def bun(explicit: str | None, workdir: Path) -> Path:
    if explicit:
        return Path(explicit)
    found = shutil.which("bun")
    if found:
        return Path(found)
    local = workdir / "bun" / "node_modules" / ".bin" / "bun"
    if not local.exists():
        log("installing Bun from the npm registry (npm install bun)")
        (workdir / "bun").mkdir(parents=True, exist_ok=True)
        (workdir / "bun" / "package.json").write_text('{"private": true}\n')
        run(["npm", "install", "--no-audit", "--no-fund", "bun"], cwd=workdir / "bun", timeout=600)
    run([str(local), "--version"], timeout=30)
    return local


def adapt_package_json(pkg: dict) -> dict:
    """Installable outside its monorepo, with postgres-js for a local PostgreSQL."""
    pkg = json.loads(json.dumps(pkg))
    for section in ("dependencies", "devDependencies"):
        deps = pkg.get(section, {})
        for name, spec in list(deps.items()):
            if spec.startswith("workspace:"):
                del deps[name]  # @app/db: a sibling package the server's own sources never import
            elif spec.startswith("catalog:"):
                deps[name] = CATALOG[name]
    pkg.setdefault("dependencies", {})["postgres"] = "^3.4.5"
    return pkg


def _source_tar(baseline: Path) -> bytes:
    """The old server's files as a tar stream, from a folder or from a git clone's HEAD."""
    if (baseline / "src" / "index.ts").is_file():
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            for path in sorted(baseline.rglob("*")):
                rel = path.relative_to(baseline)
                if rel.parts[0] in ("node_modules", "dist", ".env") or not path.is_file():
                    continue
                tar.add(path, arcname=str(rel))
        return buf.getvalue()
    git = ["git", "--git-dir", str(baseline)] if (baseline / "HEAD").is_file() else ["git", "-C", str(baseline)]
    out = subprocess.run([*git, "archive", "HEAD", "app/apps/server"], capture_output=True, timeout=120)
    if out.returncode:
        raise RuntimeError(
            f"BASELINE_DIR={baseline}: neither the server folder (src/index.ts) nor a git "
            f"clone of the old monorepo with app/apps/server: {out.stderr.decode()[-500:]}"
        )
    return out.stdout


def baseline(source: Path, workdir: Path, bun_path: Path) -> Path:
    data = _source_tar(source)
    digest = hashlib.sha1(data + CONNECTIONS_TS.encode() + ENTRY_TS.encode() + LOOPBACK_TS.encode()).hexdigest()[:12]
    dest = workdir / f"baseline-{digest}"
    if (dest / ".prepared").exists():
        return dest
    log(f"preparing the old server from {source} in {dest}")
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(dest, filter="data")
    nested = dest / "app" / "apps" / "server"
    if nested.is_dir():
        for item in nested.iterdir():
            item.rename(dest / item.name)
        shutil.rmtree(dest / "app")
    pkg = adapt_package_json(json.loads((dest / "package.json").read_text()))
    (dest / "package.json").write_text(json.dumps(pkg, indent=2) + "\n")
    (dest / "src" / "db" / "connections.ts").write_text(CONNECTIONS_TS)
    (dest / "bench-loopback.ts").write_text(LOOPBACK_TS)
    (dest / "bench-entry.ts").write_text(ENTRY_TS)
    run([str(bun_path), "install"], cwd=dest, timeout=900)
    (dest / ".prepared").write_text("ok\n")
    return dest


def relay_python(repo: Path) -> Path:
    """This repository's virtualenv (created by scripts/_bootstrap.sh when missing): the relay
    ceiling runs on the same packages as our server."""
    python = repo / ".venv" / "bin" / "python"
    if not python.exists():
        log("creating .venv for the Python relay ceiling (scripts/_bootstrap.sh)")
        run(["bash", "-c", "source scripts/_bootstrap.sh requirements.txt"], cwd=repo, timeout=1800)
    return python

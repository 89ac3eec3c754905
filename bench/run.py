"""``make bench``: build the synthetic network, serve it with gunicorn, drive it, print a table.

Absolute numbers drift on shared machines; each operation's throughput as a ratio of the
trivial authenticated endpoint's, in the same run, is what the project promises.
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from registry import create_app
from registry.auth import keys
from registry.database import db
from registry.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent


def _wait_ready(base: str, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the app did not become ready")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--seconds", type=float, default=8, help="per operation")
    parser.add_argument("--threads", type=int, default=4, help="client connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument(
        "--only",
        default="",
        help="time only the operations whose names contain one of these comma-separated words "
        "(the trivial endpoint is always timed)",
    )
    args = parser.parse_args()

    work = ROOT / "var" / "bench"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    url = args.database_url or f"sqlite:///{work / 'bench.db'}"
    if url.startswith("postgresql"):
        from sqlalchemy import text

        from registry.database import make_engine

        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
    upgrade(url)
    from bench.network import build

    began = time.perf_counter()
    ids = build(url)
    print(f"built {ids['counts']} in {time.perf_counter() - began:.1f}s", flush=True)
    app = create_app({"DATABASE_URL": url})
    with app.app_context():
        _, raw = keys.create(session=db.session, name="bench", scopes=["read", "check", "write"])
        db.session.commit()
    ids_file = work / "ids.json"
    ids_file.write_text(json.dumps(ids))

    env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"}
    base = f"http://127.0.0.1:{args.port}"
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--bind",
            f"127.0.0.1:{args.port}",
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        _wait_ready(base)
        output = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.driver",
                base,
                raw,
                str(ids_file),
                str(args.seconds),
                str(args.threads),
                args.only,
            ],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        server.terminate()
        server.wait(timeout=30)
    results = json.loads(output)
    print(table(results, url, args))


def table(results, url, args) -> str:
    """The one table make bench prints (Markdown, ready for docs/performance.md)."""
    by_name = {r["operation"]: r for r in results}
    lines = [
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, database {url.split(':', 1)[0]}, gunicorn "
        f"{args.workers} workers, {args.threads} client connections; each operation timed "
        f"{args.seconds:g}s in slices, each slice right after one of the trivial endpoint; "
        "× trivial is the median of the slices' ratios, spread their lowest and highest",
        "",
        "| operation | req/s | p50 ms | p99 ms | × trivial | spread | statuses |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for r in results:
        spread = f"{min(r['ratios']):.2f}–{max(r['ratios']):.2f}" if r["ratios"] else ""
        lines.append(
            f"| {r['operation']} | {r['rps']:.1f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
            f"{r['ratio']:.2f} | {spread} | {r['statuses']} |"
        )
    check = by_name.get("check technologist")
    searches = [r for r in results if r["operation"].startswith("search")]
    if check and searches:
        lines.append("")
        for search in searches:
            # a saturated server's throughput is the inverse of a request's cost
            lines.append(
                f"{search['operation']} costs {check['ratio'] / search['ratio']:.1f} single "
                f"checks (throughput ratio; p50 latency ratio "
                f"{search['p50_ms'] / check['p50_ms']:.1f})"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    main()

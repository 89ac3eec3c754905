"""``make bench``: build the synthetic network, serve it with gunicorn, drive it, print a table.

With ``--compare CHECKOUT`` the same network is served by that checkout's code too (its own
venv, its own migrations); ``--scales 1,10`` serves this code on two networks. The two servers
are driven in alternating slices (base, new, new, base, ...); one table compares them.
Absolute numbers drift on shared machines: compare like with like, in one run.
"""

import argparse
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "bench"

# run in a checkout's own interpreter, so each side migrates and makes its key with its own code
_MIGRATE = "import sys; from registry.migrate import upgrade; upgrade(sys.argv[1])"
_MAKE_KEY = """
import sys
from registry import create_app
from registry.auth import keys
from registry.database import db
app = create_app({"DATABASE_URL": sys.argv[1]})
with app.app_context():
    _, raw = keys.create(session=db.session, name="bench", scopes=["read", "check", "write"])
    db.session.commit()
print("KEY", raw)
"""


@dataclass
class Side:
    """One checkout serving one copy of the network."""

    name: str
    checkout: Path
    url: str
    port: int
    scale: float = 1
    ids: dict | None = None
    key: str = ""
    server: subprocess.Popen | None = None

    @property
    def ids_file(self) -> Path:
        return WORK / f"ids-{self.name.replace(' ', '-')}.json"

    @property
    def python(self) -> Path:
        if self.checkout == ROOT:
            return Path(sys.executable)
        return self.checkout / ".venv" / "bin" / "python"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def code(self, source: str, *args: str) -> str:
        done = subprocess.run(
            [str(self.python), "-c", source, *args],
            cwd=self.checkout,
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise SystemExit(f"{self.name} ({self.checkout}) failed:\n{done.stderr[-3000:]}")
        return done.stdout

    def commit(self) -> str:
        def git(*args):
            return subprocess.run(
                ["git", *args], cwd=self.checkout, capture_output=True, text=True
            ).stdout.strip()

        dirty = "+changes" if git("status", "--porcelain", "--untracked-files=no") else ""
        return git("rev-parse", "--short", "HEAD") + dirty


def _wait_ready(base: str, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the app at {base} did not become ready")


def _admin(url: str, *statements: str) -> None:
    """Run statements on the PostgreSQL server's maintenance database (outside a transaction)."""
    engine = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


def _fresh(url: str) -> None:
    """An empty database at ``url``."""
    if url.startswith("postgresql"):
        name = make_url(url).database
        _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    else:
        path = Path(make_url(url).database)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def _copy(source: str, target: str) -> None:
    """``target`` becomes a copy of the database at ``source``."""
    if source.startswith("postgresql"):
        old, new = make_url(source).database, make_url(target).database
        _admin(
            source,
            f'DROP DATABASE IF EXISTS "{new}" WITH (FORCE)',
            f'CREATE DATABASE "{new}" TEMPLATE "{old}"',
        )
    else:
        path = make_url(source).database
        with sqlite3.connect(path) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        _fresh(target)
        shutil.copyfile(path, make_url(target).database)


def _side_url(url: str | None, name: str) -> str:
    name = name.replace(".", "_")
    if url is None:
        return f"sqlite:///{WORK / (name + '.db')}"
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{name}").render_as_string(hide_password=False)


def prepare(args) -> list[Side]:
    """Build the network, give each side its own migrated copy (or, with --scales, its own
    network) and an API key."""
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    if args.compare:
        base = Side("base", Path(args.compare).resolve(), "", args.port + 1, args.scale)
        if not base.python.exists():
            raise SystemExit(f"{base.checkout} has no venv: cd {base.checkout} && make dev")
        new = Side("new", ROOT, "", args.port, args.scale)
        sides = [base, new]
    elif args.scales:
        sides = [
            Side(f"scale {scale:g}", ROOT, "", args.port + i, scale)
            for i, scale in enumerate(args.scales)
        ]
    else:
        sides = [Side("new", ROOT, args.database_url or "", args.port, args.scale)]
    for side in sides:
        side.url = side.url or _side_url(args.database_url, side.name.replace(" ", "_"))
    from bench.network import build

    built = {}  # the first side of each scale builds, the others copy it
    for side in sides:
        began = time.perf_counter()
        source = built.get(side.scale)
        if source is None:
            _fresh(side.url)
            side.code(_MIGRATE, side.url)
            side.ids = build(side.url, scale=side.scale, alone=True)
            built[side.scale] = side
            what = "built"
        else:
            _copy(source.url, side.url)
            side.code(_MIGRATE, side.url)  # the copy gets this side's migrations, if any are newer
            side.ids = source.ids
            what = f"copied from {source.name}"
        side.ids_file.write_text(json.dumps(side.ids))
        print(
            f"{side.name}: network at scale {side.scale:g} {what} in "
            f"{time.perf_counter() - began:.1f}s (migrations included): {side.ids['counts']}, "
            f"{side.ids['search_candidates']} technologists appointed at the searched facility",
            flush=True,
        )
    for side in sides:  # after every copy: each side's key is its own
        side.key = side.code(_MAKE_KEY, side.url).rsplit("KEY ", 1)[1].strip()
    return sides


def _start(side: Side, workers: int) -> None:
    env = {**os.environ, "DATABASE_URL": side.url, "LOG_LEVEL": "WARNING"}
    side.server = subprocess.Popen(
        [
            str(side.python.parent / "gunicorn"),
            "--bind",
            f"127.0.0.1:{side.port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        cwd=side.checkout,
        env=env,
    )


def _drive(sides: list[Side], args, run_index: int) -> list[list[dict]]:
    servers = []
    for side in sides:
        servers += ["--server", side.base, side.key, str(side.ids_file)]
    output = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.driver",
            *servers,
            "--seconds",
            str(args.seconds),
            "--threads",
            str(args.threads),
            "--only",
            args.only,
            "--run-index",
            str(run_index),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--database-url",
        default=None,
        help="default: fresh SQLite files in var/bench; with --compare, a PostgreSQL URL names "
        "the prefix of two databases (<name>_base, <name>_new) which are dropped and created",
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=float(os.environ.get("BENCH_SCALE") or 1),
        help="the network's size: 1 = 10,000 people (default: $BENCH_SCALE or 1)",
    )
    parser.add_argument("--compare", metavar="CHECKOUT", help="bench this checkout too (base)")
    parser.add_argument(
        "--scales",
        type=lambda text: [float(x) for x in text.split(",")],
        help="two scales, e.g. 1,10: this checkout on a network of each, driven alternately",
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=None,
        help="runs of each side (default: "
        "1, or 2 with --compare or --scales; each run times both sides in alternating slices)",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=None,
        help="per operation and run (default 8, or 6 with --compare or --scales)",
    )
    parser.add_argument("--threads", type=int, default=4, help="client connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated operations to time (the trivial endpoint always is): check, "
        "check-remote, search, search-whole, search-page, book (the default set), people, mix, "
        "expirations, fhir-read, fhir-search, fhir-roles, or all",
    )
    args = parser.parse_args()
    if args.compare and args.scales:
        raise SystemExit("--compare or --scales, not both")
    if args.scales and len(args.scales) != 2:
        raise SystemExit("--scales takes two scales, e.g. 1,10")
    paired = bool(args.compare or args.scales)
    if args.runs is None:
        args.runs = 2 if paired else 1
    if args.seconds is None:
        args.seconds = 6 if paired else 8
    from bench.driver import chosen_operations, operations

    chosen_operations(operations({"facility_id": ""}), args.only)  # refuse unknown names early

    sides = prepare(args)
    runs: list[tuple[Side, int, list[dict]]] = []
    try:
        for side in sides:
            _start(side, args.workers)
        for side in sides:
            _wait_ready(side.base)
        for index in range(args.runs):
            began = time.perf_counter()
            for side, results in zip(sides, _drive(sides, args, index), strict=True):
                runs.append((side, index, results))
            print(f"run {index + 1}: {time.perf_counter() - began:.0f}s", flush=True)
    finally:
        for side in sides:
            if side.server is not None:
                side.server.terminate()
                side.server.wait(timeout=30)
    print(report(sides, runs, args))


# -- summaries ------------------------------------------------------------------------------


def _rps(slice_) -> float:
    return len(slice_["latencies"]) / slice_["wall"]


def summary(slices) -> dict:
    """Requests per second, p50/p99/mean latency and status counts over slices of one
    operation."""
    latencies = sorted(latency for s in slices for latency in s["latencies"])
    statuses = {}
    for s in slices:
        for status, count in s["statuses"].items():
            statuses[str(status)] = statuses.get(str(status), 0) + count
    if not latencies:
        return {
            "requests": 0,
            "rps": 0.0,
            "p50_ms": None,
            "p99_ms": None,
            "mean_ms": None,
            "statuses": statuses,
        }
    return {
        "requests": len(latencies),
        "rps": len(latencies) / sum(s["wall"] for s in slices),
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "mean_ms": 1000 * statistics.fmean(latencies),
        "statuses": statuses,
    }


def combine(results_of_runs: list[list[dict]]) -> list[dict]:
    """One side's runs pooled: each operation's figures, its ratio to the trivial endpoint
    (the median of its slices' ratios to the slice just before) and their spread."""
    trivial_slices, rows = [], {}
    for results in results_of_runs:
        for r in results:
            row = rows.setdefault(
                r["key"],
                {
                    "key": r["key"],
                    "operation": r["operation"],
                    "slices": [],
                    "ratios": [],
                    "supported": True,
                },
            )
            if r.get("supported") is False:
                row["supported"] = False
                continue
            trivial_slices += r["trivial"]
            row["slices"] += r["slices"]
            row["ratios"] += [
                _rps(s) / _rps(t) for s, t in zip(r["slices"], r["trivial"], strict=True)
            ]
    out = [
        {
            "key": "trivial",
            "operation": "trivial: GET /whoami",
            "ratio": 1.0,
            "ratios": [],
            "supported": True,
            **summary(trivial_slices),
        }
    ]
    for row in rows.values():
        if not row["supported"]:
            out.append({**row, "ratio": None})
            continue
        out.append({**row, **summary(row.pop("slices")), "ratio": statistics.median(row["ratios"])})
    return out


def single_checks(rows: list[dict]) -> list[str]:
    """Each search's cost in single checks: its mean latency over a technologist check's (also,
    as bench printed before, the throughput ratio and the p50 ratio)."""
    by_key = {r["key"]: r for r in rows}
    check = by_key.get("check")
    if not check or not check.get("mean_ms"):
        return []
    lines = []
    for r in rows:
        if not r["key"].startswith("search"):
            continue
        if not r["supported"]:
            lines.append(f"{r['operation']}: n/a (the server does not page searches)")
            continue
        lines.append(
            f"{r['operation']} costs {r['mean_ms'] / check['mean_ms']:.1f} single checks "
            f"(mean latency; throughput ratio {check['ratio'] / r['ratio']:.1f}, p50 "
            f"{r['p50_ms'] / check['p50_ms']:.1f})"
        )
    return lines


def _f(value, digits=1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def report(sides: list[Side], runs, args) -> str:
    """The tables ``make bench`` prints (Markdown, ready for docs/performance.md)."""
    kind = sides[0].url.split(":", 1)[0].split("+")[0]
    networks = "; ".join(
        f"{s.name} (scale {s.scale:g}): {s.ids['counts']['people']:,} people, "
        f"{s.ids['search_candidates']} search candidates, code {s.commit()} ({s.checkout})"
        for s in sides
    )
    head = [
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, database {kind}, gunicorn {args.workers} workers, "
        f"{args.threads} client connections; {networks}; each operation timed "
        f"{args.seconds:g}s a run in slices, each slice right after one of the trivial endpoint; "
        "× trivial is the median of the slices' ratios, spread their lowest and highest",
        "",
    ]
    pooled = {s.name: combine([r for side, _, r in runs if side is s]) for s in sides}
    if len(sides) == 1:
        rows = pooled[sides[0].name]
        lines = [
            "| operation | req/s | p50 ms | p99 ms | × trivial | spread | statuses |",
            "|---|---:|---:|---:|---:|---|---|",
        ]
        for r in rows:
            if not r["supported"]:
                lines.append(f"| {r['operation']} | n/a | n/a | n/a | n/a | | |")
                continue
            spread = f"{min(r['ratios']):.2f}–{max(r['ratios']):.2f}" if r["ratios"] else ""
            lines.append(
                f"| {r['operation']} | {r['rps']:.1f} | {_f(r['p50_ms'])} | {_f(r['p99_ms'])} | "
                f"{r['ratio']:.2f} | {spread} | {r['statuses']} |"
            )
        return "\n".join(head + lines + [""] + single_checks(rows))
    a, b = (s.name for s in sides)
    b_by_key = {r["key"]: r for r in pooled[b]}
    lines = [
        f"| operation | {a} req/s | {b} req/s | {b}/{a} | {a} p50 | {b} p50 | {a} p99 | "
        f"{b} p99 | {a} × trivial | {b} × trivial | {b}/{a} of × trivial | "
        f"{b}/{a} of mean latency |",
        "|---|" + "---:|" * 11,
    ]
    for x in pooled[a]:
        y = b_by_key[x["key"]]
        both = x["supported"] and y["supported"]
        lines.append(
            f"| {x['operation']} | {_f(x.get('rps'))} | {_f(y.get('rps'))} | "
            f"{_f(y['rps'] / x['rps'], 2) if both else 'n/a'} | {_f(x.get('p50_ms'))} | "
            f"{_f(y.get('p50_ms'))} | {_f(x.get('p99_ms'))} | {_f(y.get('p99_ms'))} | "
            f"{_f(x['ratio'], 2)} | {_f(y['ratio'], 2)} | "
            f"{_f(y['ratio'] / x['ratio'], 2) if both else 'n/a'} | "
            f"{_f(y['mean_ms'] / x['mean_ms'], 2) if both else 'n/a'} |"
        )
    statuses = [
        f"statuses {s.name}: "
        + "; ".join(f"{r['key']} {r['statuses']}" for r in pooled[s.name] if r["supported"])
        for s in sides
    ]
    costs = [f"{s.name}: {line}" for s in sides for line in single_checks(pooled[s.name])]
    # every run, in the order it ran: req/s (× trivial)
    labels = [f"{side.name} {index + 1}" for side, index, _ in runs]
    per_run = [
        "| operation | " + " | ".join(labels) + " |",
        "|---|" + "---:|" * len(labels),
    ]
    each = [combine([results]) for _, _, results in runs]
    for i, row in enumerate(each[0]):
        cells = []
        for rows in each:
            r = rows[i]
            cells.append("n/a" if not r["supported"] else f"{r['rps']:.1f} ({r['ratio']:.2f})")
        per_run.append(f"| {row['operation']} | " + " | ".join(cells) + " |")
    return "\n".join(
        head
        + lines
        + [""]
        + costs
        + [""]
        + statuses
        + ["", "each run, req/s (× trivial):", ""]
        + per_run
    )


if __name__ == "__main__":
    main()

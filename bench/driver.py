"""The load driver: a separate process that calls the served app and measures each operation."""

import http.client
import itertools
import json
import random
import statistics
import sys
import threading
import time
from urllib.parse import urlsplit


def _case(facility_id, day, remote=False):
    start = f"2026-12-{day:02d}T08:00:00-06:00"
    end = f"2026-12-{day:02d}T12:00:00-06:00"
    return {
        "facility_id": facility_id,
        "starts_at": start,
        "ends_at": end,
        "modalities": ["SSEP", "TCMEP", "EMG"],
        "remote": remote,
    }


def operations(ids):
    """Each operation: (name, method, path, body factory)."""
    rng = random.Random(11)
    facility = ids["facility_id"]
    counter = iter(range(10**9))

    def technologist_check():
        return {
            "person_id": rng.choice(ids["technologist_ids"]),
            "role": "technologist",
            "case": _case(facility, rng.randrange(1, 28)),
        }

    turns = itertools.count()

    def read_then_check():
        # real traffic: reads and checks share the server's pooled connections
        if next(turns) % 2:
            return "POST", "/api/v1/qualification-checks", technologist_check()
        return "GET", f"/api/v1/people/{rng.choice(ids['person_ids'])}", None

    def booking():
        # each technologist in turn, each time in a fresh 4-hour window (never a conflict), all
        # in January 2027 while everyone's credentials are valid: every booking should succeed
        n = next(counter)
        technologists = ids["technologist_ids"]
        starts = 1_800_000_000 + (n // len(technologists)) * 5 * 3600
        from datetime import UTC, datetime, timedelta

        begin = datetime.fromtimestamp(starts, UTC)
        body = _case(facility, 1)
        body["starts_at"] = begin.isoformat()
        body["ends_at"] = (begin + timedelta(hours=4)).isoformat()
        return {
            "person_id": technologists[n % len(technologists)],
            "role": "technologist",
            "case": body,
        }

    return [
        ("trivial: GET /whoami", "GET", "/api/v1/whoami", None),
        (
            "GET /people/{id}",
            "GET",
            lambda: f"/api/v1/people/{rng.choice(ids['person_ids'])}",
            None,
        ),
        ("check technologist", "POST", "/api/v1/qualification-checks", technologist_check),
        (
            "check remote physician",
            "POST",
            "/api/v1/qualification-checks",
            lambda: {
                "person_id": rng.choice(ids["physician_ids"]),
                "role": "interpreting_physician",
                "case": _case(facility, rng.randrange(1, 28), remote=True),
            },
        ),
        (
            "search technologists (qualified)",
            "POST",
            "/api/v1/qualification-searches",
            lambda: {"role": "technologist", "case": _case(facility, rng.randrange(1, 28))},
        ),
        (
            "search 5,000 technologists (+unqualified)",
            "POST",
            "/api/v1/qualification-searches",
            lambda: {
                "role": "technologist",
                "case": _case(facility, rng.randrange(1, 28)),
                "include_unqualified": True,
            },
        ),
        ("book technologist", "POST", "/api/v1/assignments", booking),
        # alternately a GET /people/{id} and a technologist check, each counted as a request
        ("mix: GET /people/{id} and check technologist", read_then_check, None, None),
        ("GET /expirations?within_days=30", "GET", "/api/v1/expirations?within_days=30", None),
    ]


def run_operation(base, key, method, path, body, seconds, threads):
    """Hammer one operation for ``seconds`` from ``threads`` client threads (gunicorn's sync
    workers close the connection after each response, so each request opens one); the raw
    measurements (see ``summary``)."""
    target = urlsplit(base)
    latencies, statuses, lock = [], {}, threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker():
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
        while time.perf_counter() < deadline:
            if callable(method):  # a mix: each request says what it is
                verb, url, document = method()
            else:
                verb, url = method, path() if callable(path) else path
                document = body() if callable(body) else None
            payload = json.dumps(document) if document is not None else None
            headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
            began = time.perf_counter()
            try:
                conn.request(verb, url, body=payload, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
                status = "error"
            elapsed = time.perf_counter() - began
            with lock:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1
        conn.close()

    started = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return {"latencies": latencies, "wall": time.perf_counter() - started, "statuses": statuses}


def summary(runs) -> dict:
    """Requests per second, p50/p99 latency and status counts over several runs of one
    operation."""
    latencies = sorted(latency for run in runs for latency in run["latencies"])
    statuses = {}
    for run in runs:
        for status, count in run["statuses"].items():
            statuses[str(status)] = statuses.get(str(status), 0) + count
    return {
        "requests": len(latencies),
        "rps": len(latencies) / sum(run["wall"] for run in runs),
        "p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else None,
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        if latencies
        else None,
        "statuses": statuses,
    }


def _rps(run) -> float:
    return len(run["latencies"]) / run["wall"]


def chosen_operations(all_operations, only: str):
    """The trivial endpoint (always first) and the operations whose names contain one of the
    comma-separated words of ``only`` (all of them when it is empty)."""
    words = [word.strip() for word in only.split(",") if word.strip()]
    trivial, *others = all_operations
    return [trivial, *(op for op in others if not words or any(w in op[0] for w in words))]


WARM_UP_SECONDS = 1.0
# each operation is timed in ROUNDS slices, each right after a slice of the trivial endpoint
ROUNDS = 4


def main():
    base, key, ids_file, seconds, threads, only = sys.argv[1:7]
    with open(ids_file) as handle:
        ids = json.load(handle)
    chosen = chosen_operations(operations(ids), only)
    threads = int(threads)
    # every worker has imported, compiled and cached what each operation needs before timing
    for _name, method, path, body in chosen:
        run_operation(base, key, method, path, body, WARM_UP_SECONDS, threads)
    # Shared machines drift by tens of percent within a minute, so each operation is compared
    # with the trivial endpoint timed just before it, slice by slice: the ratio is the median
    # of the slices' ratios, and their spread shows how steady the machine was.
    (trivial_name, *trivial), *measured = chosen
    slice_seconds = float(seconds) / ROUNDS
    trivial_runs, results = [], []
    for name, method, path, body in measured:
        ratios, runs = [], []
        for _ in range(ROUNDS):
            before = run_operation(base, key, *trivial, slice_seconds, threads)
            run = run_operation(base, key, method, path, body, slice_seconds, threads)
            trivial_runs.append(before)
            runs.append(run)
            ratios.append(_rps(run) / _rps(before))
        results.append(
            {
                "operation": name,
                **summary(runs),
                "ratio": statistics.median(ratios),
                "ratios": ratios,
            }
        )
    trivial_result = {
        "operation": trivial_name,
        **summary(trivial_runs),
        "ratio": 1.0,
        "ratios": [],
    }
    json.dump([trivial_result, *results], sys.stdout)


if __name__ == "__main__":
    main()

"""The load driver: a separate process that calls the served apps and measures each operation.

It prints JSON: for each server, for each operation its timed slices and, for each, the trivial
endpoint's slice timed just before it (``bench.run`` summarises them).
"""

import argparse
import http.client
import itertools
import json
import random
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

SEARCHES = "/api/v1/qualification-searches"
CHECKS = "/api/v1/qualification-checks"
PAGE_SIZE = 100


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


class Operation:
    """One timed operation: ``key`` (for --only), its name in the table, and how to make a
    request (``request()`` returns method, path and body)."""

    def __init__(self, key, name, request):
        self.key, self.name, self.request = key, name, request


def operations(ids, run_index=0):
    """Every operation the bench knows, the trivial endpoint first."""
    rng = random.Random(11 + run_index)
    facility = ids["facility_id"]
    counter = itertools.count()
    turns = itertools.count()

    def fixed(method, path, body=None):
        return lambda: (method, path, body)

    def technologist_check():
        return {
            "person_id": rng.choice(ids["technologist_ids"]),
            "role": "technologist",
            "case": _case(facility, rng.randrange(1, 28)),
        }

    def read_then_check():
        # real traffic: reads and checks share the server's pooled connections
        if next(turns) % 2:
            return "POST", CHECKS, technologist_check()
        return "GET", f"/api/v1/people/{rng.choice(ids['person_ids'])}", None

    def booking():
        # each technologist in turn, each time in a fresh 4-hour window (never a conflict), from
        # January 2027 while everyone's credentials are valid: every booking should succeed; a
        # later run against the same database starts 100 windows (~3 weeks) further on
        n = next(counter)
        technologists = ids["technologist_ids"]
        window = n // len(technologists) + 100 * run_index
        begin = datetime.fromtimestamp(1_800_000_000 + window * 5 * 3600, UTC)
        body = _case(facility, 1)
        body["starts_at"] = begin.isoformat()
        body["ends_at"] = (begin + timedelta(hours=4)).isoformat()
        return (
            "POST",
            "/api/v1/assignments",
            {
                "person_id": technologists[n % len(technologists)],
                "role": "technologist",
                "case": body,
            },
        )

    def search(**more):
        return lambda: (
            "POST",
            SEARCHES,
            {"role": "technologist", "case": _case(facility, rng.randrange(1, 28)), **more},
        )

    return [
        Operation("trivial", "trivial: GET /whoami", fixed("GET", "/api/v1/whoami")),
        Operation(
            "people",
            "GET /people/{id}",
            lambda: ("GET", f"/api/v1/people/{rng.choice(ids['person_ids'])}", None),
        ),
        Operation("check", "check technologist", lambda: ("POST", CHECKS, technologist_check())),
        Operation(
            "check-remote",
            "check remote physician",
            lambda: (
                "POST",
                CHECKS,
                {
                    "person_id": rng.choice(ids["physician_ids"]),
                    "role": "interpreting_physician",
                    "case": _case(facility, rng.randrange(1, 28), remote=True),
                },
            ),
        ),
        Operation("search", "search technologists (qualified)", search()),
        Operation(
            "search-whole",
            "search all technologists (+unqualified, whole)",
            search(include_unqualified=True),
        ),
        Operation(
            "search-page",
            f"search all technologists (+unqualified, page of {PAGE_SIZE})",
            search(include_unqualified=True, page=1, page_size=PAGE_SIZE),
        ),
        Operation("book", "book technologist", booking),
        # alternately a GET /people/{id} and a technologist check, each counted as a request
        Operation("mix", "mix: GET /people/{id} and check technologist", read_then_check),
        Operation(
            "expirations",
            "GET /expirations?within_days=30",
            fixed("GET", "/api/v1/expirations?within_days=30"),
        ),
        # the FHIR directory a hospital's system reads: one person, and a page of 50
        Operation(
            "fhir-read",
            "FHIR GET Practitioner/{id}",
            lambda: ("GET", f"/fhir/r4/Practitioner/{rng.choice(ids['person_ids'])}", None),
        ),
        Operation(
            "fhir-search",
            "FHIR Practitioner search, a page of 50",
            lambda: (
                "GET",
                f"/fhir/r4/Practitioner?_count=50&_offset={rng.randrange(0, 5000)}",
                None,
            ),
        ),
        Operation(
            "fhir-roles",
            "FHIR PractitionerRole?organization= (home facility, page of 50)",
            lambda: (
                "GET",
                f"/fhir/r4/PractitionerRole?organization={facility}&_count=50",
                None,
            ),
        ),
    ]


# what the issue judges; the others with --only (or --only all)
DEFAULT_KEYS = ("check", "check-remote", "search", "search-whole", "search-page", "book")


def chosen_operations(all_operations, only: str):
    """The trivial endpoint (always first) and the operations ``only`` names, comma-separated:
    by key, or by words of their names as bench took them before (empty: the default set;
    ``all``: every one)."""
    words = {word.strip() for word in only.split(",") if word.strip()} or set(DEFAULT_KEYS)
    trivial, *others = all_operations
    keys = {op.key for op in others}

    def named(op, word):
        return word == "all" or word == op.key or (word not in keys and word in op.name)

    unknown = [w for w in words if not any(named(op, w) for op in others)]
    if unknown:
        raise SystemExit(
            f"no operation named {', '.join(sorted(unknown))}; known: "
            + ", ".join(op.key for op in others)
        )
    return [trivial, *(op for op in others if any(named(op, w) for w in words))]


def _request(conn, key, method, path, document):
    payload = json.dumps(document) if document is not None else None
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    conn.request(method, path, body=payload, headers=headers)
    response = conn.getresponse()
    response.read()
    return response


def supported(base, key, operation) -> bool:
    """Whether the server pages a search's unqualified: an answer with X-Pagination (an older
    server refuses ``page`` with 422)."""
    target = urlsplit(base)
    conn = http.client.HTTPConnection(target.hostname, target.port, timeout=600)
    try:
        response = _request(conn, key, *operation.request())
    finally:
        conn.close()
    return response.status == 200 and response.getheader("X-Pagination") is not None


def run_operation(base, key, operation, seconds, threads):
    """Hammer one operation for ``seconds`` from ``threads`` client threads (gunicorn's sync
    workers close the connection after each response, so each request opens one)."""
    target = urlsplit(base)
    latencies, statuses, lock = [], {}, threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker():
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=600)
        while time.perf_counter() < deadline:
            method, path, document = operation.request()
            began = time.perf_counter()
            try:
                status = _request(conn, key, method, path, document).status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=600)
                status = "error"
            elapsed = time.perf_counter() - began
            with lock:
                latencies.append(elapsed)
                statuses[str(status)] = statuses.get(str(status), 0) + 1
        conn.close()

    started = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return {"latencies": latencies, "wall": time.perf_counter() - started, "statuses": statuses}


WARM_UP_SECONDS = 1.0
# each operation is timed in ROUNDS slices, each right after a slice of the trivial endpoint
ROUNDS = 4


def measure(servers, *, seconds, threads, only="", run_index=0) -> list[list[dict]]:
    """Time the chosen operations against each server ``(base, key, ids)``, interleaved: for
    each operation, round by round, each server's trivial slice then its operation slice, the
    servers' order turning each round (A B, B A, ...). Per server, each operation's slices
    with the trivial endpoint's just before each, or ``supported: False``."""
    plans = []
    for base, key, ids in servers:
        trivial, *wanted = chosen_operations(operations(ids, run_index), only)
        unsupported = {
            op.key for op in wanted if op.key == "search-page" and not supported(base, key, op)
        }
        plans.append((base, key, trivial, {op.key: op for op in wanted}, unsupported))
    order = list(plans[0][3])
    # every worker has imported, compiled and cached what each operation needs before timing
    for base, key, trivial, ops, unsupported in plans:
        for op in [trivial, *(op for k, op in ops.items() if k not in unsupported)]:
            run_operation(base, key, op, WARM_UP_SECONDS, threads)
    # Shared machines drift by tens of percent within a minute, so each operation is compared
    # with the trivial endpoint timed just before it, slice by slice, and the servers' slices
    # alternate, seconds apart.
    slice_seconds = seconds / ROUNDS
    results = [[] for _ in plans]
    for name in order:
        timed = [i for i, plan in enumerate(plans) if name not in plan[4]]
        before = {i: [] for i in timed}
        slices = {i: [] for i in timed}
        for round_ in range(ROUNDS):
            turn = timed[round_ % len(timed) :] + timed[: round_ % len(timed)] if timed else []
            for i in turn:
                base, key, trivial, ops, _ = plans[i]
                before[i].append(run_operation(base, key, trivial, slice_seconds, threads))
                slices[i].append(run_operation(base, key, ops[name], slice_seconds, threads))
        for i, plan in enumerate(plans):
            op = plan[3][name]
            if i in slices:
                results[i].append(
                    {"key": name, "operation": op.name, "slices": slices[i], "trivial": before[i]}
                )
            else:
                results[i].append({"key": name, "operation": op.name, "supported": False})
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--server",
        nargs=3,
        action="append",
        required=True,
        metavar=("URL", "KEY", "IDS_FILE"),
        help="a server, its API key and its network's ids (repeat to interleave servers)",
    )
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--only", default="")
    parser.add_argument("--run-index", type=int, default=0)
    args = parser.parse_args()
    servers = []
    for base, key, ids_file in args.server:
        with open(ids_file) as handle:
            servers.append((base, key, json.load(handle)))
    results = measure(
        servers,
        seconds=args.seconds,
        threads=args.threads,
        only=args.only,
        run_index=args.run_index,
    )
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()

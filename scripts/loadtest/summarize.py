#!/usr/bin/env python3
"""Summarises flowbench JSON results as the Markdown tables of docs/benchmarks.md.

    python3 scripts/loadtest/summarize.py target/loadtest

Reads every *.json that flowbench wrote (--json FILE) in the directory, and the RUN.db file
run.sh writes beside it (database server CPU and WAL syncs for PostgreSQL, the SQLite writer's
requests and commits). Runs are named BASE-cN (N concurrent flows); `node-cN` (the Node.js
oidc-provider) and `memory-ring-cN` of the same N are the references of the ratio columns.
"""

import json
import pathlib
import sys


# Write requests the SQLite store's writer gets per flow of the load test (`code id_token`,
# client_secret_basic, no refresh, a signed-in session): the code stored with its grant
# recorded under the session, its redemption and the tokens. (The session's idle expiry is
# written once a minute per session, not per flow.)
WRITES_PER_FLOW = 3


def suffix(name: str) -> str:
    """The concurrency suffix of a run name (`-c32`), or ``""``."""
    base, _, tail = name.rpartition("-c")
    return f"-c{tail}" if base and tail.isdigit() else ""


def main() -> int:
    directory = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/loadtest")
    runs = {}
    extras = {}
    for path in sorted(directory.glob("*.json")):
        try:
            runs[path.stem] = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as error:
            print(f"skipped {path}: {error}", file=sys.stderr)
            continue
        db = path.with_suffix(".db")
        if db.exists():
            extras[path.stem] = json.loads(db.read_text())
    if not runs:
        print(f"no flowbench results in {directory}", file=sys.stderr)
        return 1

    def cpu_of(name: str):
        run = runs.get(name, {})
        return run.get("op_cpu_us_per_flow_schedstat") or run.get("op_cpu_us_per_flow")

    print("| run | flows/s | flow p50 / p99 (ms) | authorize p50 / p99 | token p50 / p99 "
          "| errors | OP CPU µs/flow | DB server CPU µs/flow | (OP + DB) / memory OP "
          "| fsyncs/flow | × less OP CPU than Node | RSS start → end (MiB) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, run in runs.items():
        legs = run.get("legs", {})

        def lat(leg: str) -> str:
            data = legs.get(leg) or {}
            if not data.get("count"):
                return "–"
            return f"{data['p50_us'] / 1000:.2f} / {data['p99_us'] / 1000:.2f}"

        cpu = cpu_of(name)
        node_cpu = cpu_of(f"node{suffix(name)}")
        memory_cpu = cpu_of(f"memory-ring{suffix(name)}")
        flows = run.get("flows") or 0
        extra = extras.get(name, {})
        db_cpu = extra["db_cpu_us"] / flows if "db_cpu_us" in extra and flows else None
        if "wal_syncs" in extra and flows:
            fsyncs = f"{extra['wal_syncs'] / flows:.2f}"
        elif extra.get("write_requests"):
            fsyncs = f"{WRITES_PER_FLOW * extra['commits'] / extra['write_requests']:.2f}"
        else:
            fsyncs = "–"
        ratio = f"{node_cpu / cpu:.1f}×" if node_cpu and cpu and not name.startswith("node") else "–"
        vs_memory = (
            f"{(cpu + (db_cpu or 0)) / memory_cpu:.2f}×" if cpu and memory_cpu else "–"
        )
        rss = run.get("rss_kib") or {}
        rss_text = (
            f"{rss['start'] / 1024:.0f} → {rss['end'] / 1024:.0f}"
            if rss.get("start") and rss.get("end")
            else "–"
        )
        cpu_text = f"{cpu:,.0f}" if cpu else "–"
        db_text = f"{db_cpu:,.0f}" if db_cpu is not None else "–"
        print(
            f"| {name} | {run.get('flows_per_s', 0):,.0f} | {lat('flow')} | {lat('authorize')} "
            f"| {lat('token')} | {run.get('errors', '?')} | {cpu_text} | {db_text} | {vs_memory} "
            f"| {fsyncs} | {ratio} | {rss_text} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Summarises flowbench JSON results as the Markdown tables of docs/benchmarks.md.

    python3 scripts/loadtest/summarize.py target/loadtest

Reads every *.json that flowbench wrote (--json FILE) in the directory; the run named `node`
(the Node.js oidc-provider), if present, is the reference for the CPU ratio column.
"""

import json
import pathlib
import sys


def main() -> int:
    directory = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/loadtest")
    runs = {}
    for path in sorted(directory.glob("*.json")):
        try:
            runs[path.stem] = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as error:
            print(f"skipped {path}: {error}", file=sys.stderr)
    if not runs:
        print(f"no flowbench results in {directory}", file=sys.stderr)
        return 1
    node_cpu = runs.get("node", {}).get("op_cpu_us_per_flow_schedstat") or runs.get(
        "node", {}
    ).get("op_cpu_us_per_flow")

    print("| run | flows/s | flow p50 / p99 (ms) | authorize p50 / p99 | token p50 / p99 "
          "| errors | OP CPU µs/flow | × less CPU than Node | RSS start → end (MiB) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, run in runs.items():
        legs = run.get("legs", {})

        def lat(leg: str) -> str:
            data = legs.get(leg) or {}
            if not data.get("count"):
                return "–"
            return f"{data['p50_us'] / 1000:.2f} / {data['p99_us'] / 1000:.2f}"

        cpu = run.get("op_cpu_us_per_flow_schedstat") or run.get("op_cpu_us_per_flow")
        ratio = f"{node_cpu / cpu:.1f}×" if node_cpu and cpu and name != "node" else "–"
        rss = run.get("rss_kib") or {}
        rss_text = (
            f"{rss['start'] / 1024:.0f} → {rss['end'] / 1024:.0f}"
            if rss.get("start") and rss.get("end")
            else "–"
        )
        print(
            f"| {name} | {run.get('flows_per_s', 0):,.0f} | {lat('flow')} | {lat('authorize')} "
            f"| {lat('token')} | {run.get('errors', '?')} | "
            f"{cpu:,.0f} | {ratio} | {rss_text} |"
            if cpu
            else f"| {name} | {run.get('flows_per_s', 0):,.0f} | {lat('flow')} | {lat('authorize')} "
            f"| {lat('token')} | {run.get('errors', '?')} | – | – | {rss_text} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

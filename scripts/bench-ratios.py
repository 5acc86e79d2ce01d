#!/usr/bin/env python3
"""Prints the core benchmarks as a Markdown table of medians and ratios to their signing floor.

Run the benchmarks, then this script (Python 3.11+, standard library only):

    cargo bench -p oidc-hybrid-tests --bench core -- --quick
    python3 scripts/bench-ratios.py                 # reads target/criterion
    python3 scripts/bench-ratios.py path/to/criterion [--all]

It reads criterion's `**/new/estimates.json` (median point estimate, in ns) and takes each
bench id from the `benchmark.json` beside it (`full_id`; criterion flattens ids deeper than
group/function/value in directory names, so the path is only a fallback). The criterion
directory defaults to `$CARGO_TARGET_DIR/criterion`, else `target/criterion` at the repository
root.

Ratios (`ALG` is ES256 or RS256, `X` the signer family, `rustcrypto` or `ring`):

- `respond/.../ALG/X` and `token/.../ALG/X`: divided by `floor/sign/ALG/X` (one signature);
- `flow/.../ALG/X`: divided by `floor/code_id_token/ALG/X` (the unavoidable crypto of one
  `code id_token` flow: two signatures, `c_hash`, `at_hash` and the SHA-256 digests stored);
  the project's target is `flow/code_id_token/ALG/X` <= 1.2;
- `floor/code_id_token/ALG/X`: divided by `floor/sign/ALG/X` (about 2: two signatures);
- everything signature-free (`authorize/...`, `respond/code`, `respond/code_token`, `hash/...`):
  divided by `floor/sign/ES256/ring` and flagged as such.

Benches that are missing are skipped and listed under the table. `--all` also lists benches of
other groups (other bench targets share the criterion directory) without a ratio.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

# The groups of the `core` bench, in the order the table lists them.
GROUPS = ["authorize", "respond", "token", "hash", "floor", "flow"]

# The flow target: whole in-process `code id_token` flow <= TARGET x its floor.
TARGET = 1.2

# Benches written further apart than this (seconds) probably come from different runs.
MIXED_RUNS_SECS = 30 * 60

# The reference for signature-free benches.
SIGNATURE_FREE_REFERENCE = "floor/sign/ES256/ring"

FAMILIES = ["rustcrypto", "ring"]
RESPONSE_TYPES = ["code", "code_id_token", "code_token", "code_id_token_token"]


def expected_ids() -> list[str]:
    """Every bench id the `core` bench defines (to report what is missing)."""
    ids = [f"authorize/parse_bind/{rt}" for rt in RESPONSE_TYPES]
    ids += ["respond/code", "respond/code_token"]
    ids += [f"respond/{rt}/ES256/{x}" for rt in ("code_id_token", "code_id_token_token") for x in FAMILIES]
    ids += [f"token/{kind}/ES256/{x}" for kind in ("redeem", "refresh") for x in FAMILIES]
    ids += ["hash/c_hash", "hash/at_hash"]
    ids += [f"floor/{kind}/{alg}/{x}" for alg in ("ES256", "RS256") for kind in ("sign", "code_id_token") for x in FAMILIES]
    ids += [f"flow/code_id_token/{alg}/{x}" for alg in ("ES256", "RS256") for x in FAMILIES]
    ids += [f"flow/code_id_token_userinfo/ES256/{x}" for x in FAMILIES]
    return ids


@dataclass
class Bench:
    id: str
    median_ns: float
    written: float  # mtime of estimates.json, to spot ratios that mix runs


def default_dir() -> Path:
    target = os.environ.get("CARGO_TARGET_DIR")
    if target:
        return Path(target) / "criterion"
    return Path(__file__).resolve().parent.parent / "target" / "criterion"


def load(criterion_dir: Path) -> dict[str, Bench]:
    """Bench id -> median, from every `new/estimates.json` under `criterion_dir`."""
    benches: dict[str, Bench] = {}
    for estimates in sorted(criterion_dir.glob("**/new/estimates.json")):
        new = estimates.parent
        bench_id = new.parent.relative_to(criterion_dir).as_posix()
        try:
            meta = json.loads((new / "benchmark.json").read_text())
            bench_id = meta.get("full_id") or bench_id
        except (OSError, ValueError):
            pass  # fall back to the directory path
        try:
            median = json.loads(estimates.read_text())["median"]["point_estimate"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            print(f"note: skipped {estimates}: {error}", file=sys.stderr)
            continue
        benches[bench_id] = Bench(bench_id, float(median), estimates.stat().st_mtime)
    return benches


def reference(bench_id: str) -> tuple[str | None, str]:
    """The floor `bench_id` is divided by, and how to flag the ratio."""
    parts = bench_id.split("/")
    group = parts[0]
    signed = len(parts) >= 4 and parts[-2] in ("ES256", "RS256") and parts[-1] in FAMILIES
    if group == "floor":
        if signed and parts[1] == "code_id_token":
            return f"floor/sign/{parts[-2]}/{parts[-1]}", "x one signature"
        if signed and parts[1] == "sign":
            return None, "the signing floor"
    if signed and group in ("respond", "token"):
        return f"floor/sign/{parts[-2]}/{parts[-1]}", ""
    if signed and group == "flow":
        return f"floor/code_id_token/{parts[-2]}/{parts[-1]}", ""
    if group in GROUPS:
        return SIGNATURE_FREE_REFERENCE, "no signature: vs one ES256/ring signature"
    return None, "not a core bench"


def sort_key(bench_id: str) -> tuple[int, str]:
    group = bench_id.split("/")[0]
    return (GROUPS.index(group) if group in GROUPS else len(GROUPS), bench_id)


def main(argv: list[str]) -> int:
    if any(a in ("-h", "--help") for a in argv):
        print(__doc__)
        return 0
    args = [a for a in argv if not a.startswith("-")]
    show_all = "--all" in argv
    criterion_dir = Path(args[0]) if args else default_dir()
    if not criterion_dir.is_dir():
        print(f"no criterion output at {criterion_dir}; run the benches first:", file=sys.stderr)
        print("    cargo bench -p oidc-hybrid-tests --bench core -- --quick", file=sys.stderr)
        return 1
    benches = load(criterion_dir)
    ids = sorted(
        (b for b in benches if show_all or b.split("/")[0] in GROUPS),
        key=sort_key,
    )

    notes: list[str] = []
    verdicts: list[str] = []
    print("| bench | median (µs) | ratio | relative to | note |")
    print("| --- | ---: | ---: | --- | --- |")
    for bench_id in ids:
        bench = benches[bench_id]
        ref_id, flag = reference(bench_id)
        ratio = "—"
        ref_cell = ref_id or "—"
        note = flag
        if ref_id is not None:
            ref = benches.get(ref_id)
            if ref is None or ref.median_ns <= 0:
                note = f"{flag}; floor missing" if flag else "floor missing"
                notes.append(f"{bench_id}: no ratio, {ref_id} is missing")
            else:
                value = bench.median_ns / ref.median_ns
                ratio = f"{value:.2f}"
                if bench_id.startswith("flow/code_id_token/"):
                    ok = value <= TARGET
                    note = f"target <= {TARGET}: {'met' if ok else 'NOT MET'}"
                    verdicts.append(f"{bench_id}: {value:.2f} x floor ({'met' if ok else 'NOT MET'})")
        print(f"| `{bench_id}` | {bench.median_ns / 1000:.3f} | {ratio} | {ref_cell} | {note} |")

    written = [benches[b].written for b in ids if b.split("/")[0] in GROUPS]
    if written:
        if max(written) - min(written) > MIXED_RUNS_SECS:
            notes.append(
                "the estimates were written over "
                f"{(max(written) - min(written)) / 60:.0f} minutes: ratios may mix runs "
                "(rerun the whole bench for consistent ratios)"
            )
    missing = [b for b in expected_ids() if b not in benches]
    if missing:
        notes.append("skipped (no criterion output): " + ", ".join(missing))
    if verdicts:
        print()
        print(f"Target, whole in-process `code id_token` flow <= {TARGET} x its floor:")
        for verdict in verdicts:
            print(f"- {verdict}")
    if notes:
        print()
        print("Notes:")
        for note in notes:
            print(f"- {note}")
    if not ids:
        print(f"\nno core benches under {criterion_dir}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BrokenPipeError:  # e.g. piped into `head`
        sys.stderr.close()
        sys.exit(0)

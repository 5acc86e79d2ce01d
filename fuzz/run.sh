#!/usr/bin/env bash
# Runs one fuzz target for a number of seconds from its committed corpus, with the protocol
# dictionary, and fails on any crash, timeout or out-of-memory.
#
#   bash fuzz/run.sh TARGET SECONDS [extra libFuzzer flags...]
#   bash fuzz/run.sh smoke SECONDS      # every target, SECONDS each
#   bash fuzz/run.sh build              # build every target only
#
# New inputs found during the run go to a scratch directory, so the committed corpus is only
# read; merge them on purpose with `cargo +nightly fuzz run TARGET corpus/TARGET NEW -- -merge=1`.
# Crashing inputs are written to fuzz/artifacts/TARGET/.
#
# Needs the nightly toolchain (or RUSTC_BOOTSTRAP=1 on stable) and cargo-fuzz, which it installs
# with `cargo install cargo-fuzz --locked` when missing.
set -euo pipefail
cd "$(dirname "$0")"

TARGETS=(authorize_params token_request sets redirect_uri jws client_metadata client_jwt dpop_proof flow_sequence)

toolchain=()
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    toolchain=(+nightly)
else
    echo "run.sh: no nightly toolchain; using RUSTC_BOOTSTRAP=1 with the default toolchain" >&2
    export RUSTC_BOOTSTRAP=1
fi

if ! cargo "${toolchain[@]}" fuzz --version >/dev/null 2>&1; then
    echo "run.sh: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi

build() {
    cargo "${toolchain[@]}" fuzz build "$@"
}

run_one() {
    local target=$1 seconds=$2
    shift 2
    local scratch
    scratch=$(mktemp -d)
    mkdir -p "corpus/$target" "artifacts/$target"
    echo "::: fuzz $target for ${seconds}s (corpus: $(find "corpus/$target" -type f | wc -l) inputs)"
    # -fork/-jobs are not used: one process, so the final stats line is this target's.
    cargo "${toolchain[@]}" fuzz run "$target" "$scratch" "corpus/$target" -- \
        -dict=dict/oidc.dict \
        -max_total_time="$seconds" \
        -max_len=16384 \
        -rss_limit_mb=2048 \
        -timeout=10 \
        -print_final_stats=1 \
        "$@"
    rm -rf "$scratch"
}

case "${1:-}" in
    build)
        build
        ;;
    smoke)
        seconds=${2:-20}
        build
        for target in "${TARGETS[@]}"; do
            run_one "$target" "$seconds"
        done
        ;;
    "")
        echo "usage: $0 TARGET|smoke|build [SECONDS] [libFuzzer flags...]" >&2
        exit 2
        ;;
    *)
        target=$1
        seconds=${2:-60}
        shift $(( $# >= 2 ? 2 : 1 ))
        build "$target"
        run_one "$target" "$seconds" "$@"
        ;;
esac

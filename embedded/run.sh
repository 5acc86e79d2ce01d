#!/usr/bin/env bash
# Builds the Cortex-M firmware of embedded/cortex-m for thumbv7em-none-eabihf (release: opt-level
# "z", LTO, one codegen unit, panic abort), prints its section sizes, and runs it on QEMU's
# mps2-an386 (Cortex-M4F) with semihosting. Its output must be `measure: name=value` lines and a
# last line `OK`; anything else, a non-zero exit or a timeout fails.
#
#   embedded/run.sh            the two images CI runs: conforming (ES256 + RS256 key) and ES256-only
#   embedded/run.sh all        also the measurement variants of docs/embedded.md
#   embedded/run.sh NAME...    the named variants
#
# Needs qemu-system-arm and arm-none-eabi-size (scripts/install-qemu.sh) or llvm-size.
set -euo pipefail
cd "$(dirname "$0")/cortex-m"

target=thumbv7em-none-eabihf
timeout_secs=${QEMU_TIMEOUT:-120}

# name -> cargo feature arguments
declare -A variants=(
    [conforming]=""
    [es256-only]="--no-default-features"
    [conforming-op]="--features op-only"
    [es256-only-op]="--no-default-features --features op-only"
    [es256-only-pkcs8]="--no-default-features --features pkcs8"
    [es256-only-sha512]="--no-default-features --features sha512"
    [rs256-flow]="--features rs256-flow"
)
ci_variants=(conforming es256-only)
all_variants=(conforming es256-only conforming-op es256-only-op es256-only-pkcs8 es256-only-sha512 rs256-flow)

case "${1:-}" in
    "") selected=("${ci_variants[@]}") ;;
    all) selected=("${all_variants[@]}") ;;
    *) selected=("$@") ;;
esac

if ! rustup target list --installed | grep -qx "$target"; then
    rustup target add "$target"
fi
if command -v arm-none-eabi-size >/dev/null 2>&1; then
    size_cmd=(arm-none-eabi-size -A)
elif command -v llvm-size >/dev/null 2>&1; then
    size_cmd=(llvm-size -A)
else
    echo "neither arm-none-eabi-size nor llvm-size found (run scripts/install-qemu.sh)" >&2
    exit 1
fi
command -v qemu-system-arm >/dev/null || { echo "qemu-system-arm missing (run scripts/install-qemu.sh)" >&2; exit 1; }

status=0
for name in "${selected[@]}"; do
    if [ -z "${variants[$name]+set}" ]; then
        echo "unknown variant $name (known: ${all_variants[*]})" >&2
        exit 2
    fi
    printf '\n--- %s (cargo build --release %s)\n' "$name" "${variants[$name]}"
    # One target directory per variant, so that switching features rebuilds nothing needlessly.
    # shellcheck disable=SC2086
    cargo build --release --locked --target-dir "target/$name" ${variants[$name]}
    elf="target/$name/$target/release/oidc-hybrid-cortex-m"
    sizes=$("${size_cmd[@]}" "$elf")
    echo "$sizes" | grep -E '^(section|\.vector_table|\.text|\.rodata|\.data|\.bss|\.uninit)'
    echo "$sizes" | awk -v name="$name" '
        $1 == ".vector_table" || $1 == ".text" || $1 == ".rodata" || $1 == ".data" { flash += $2 }
        $1 == ".data" || $1 == ".bss" || $1 == ".uninit" { ram += $2 }
        END { printf "%s: flash %d bytes (%.1f KiB), static RAM %d bytes\n", name, flash, flash / 1024, ram }'

    output_file=$(mktemp)
    set +e
    timeout "$timeout_secs" qemu-system-arm -M mps2-an386 -nographic \
        -semihosting-config enable=on,target=native -icount shift=0 \
        -kernel "$elf" >"$output_file" 2>&1
    code=$?
    set -e
    cat "$output_file"
    last=$(tail -n 1 "$output_file")
    unexpected=$(grep -cvE '^(measure: [a-z0-9_]+=[0-9]+|OK)$' "$output_file" || true)
    oks=$(grep -cx 'OK' "$output_file" || true)
    rm -f "$output_file"
    if [ "$code" -ne 0 ] || [ "$last" != "OK" ] || [ "$unexpected" -ne 0 ] || [ "$oks" -ne 1 ]; then
        echo "!!! $name: FAILED (exit $code; the output must be measure lines and one final OK)" >&2
        status=1
    else
        echo "$name: passed"
    fi
done
exit "$status"

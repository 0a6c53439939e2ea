#!/usr/bin/env bash
# Instructions per dense-layer Jacobian (y = tanh(W x + b), n = m = 16 and 64) under
# callgrind, for the #[jacobian]-generated code, a hand-written expert version, num-dual
# forward mode and central finite differences.
#
# Builds benches/callgrind_layer.rs in the bench (release) profile, then for every variant
# and size runs it under `valgrind --tool=callgrind` with K = 0, K and 2K calls. Setup
# (inputs, agreement check, process start) is identical in all three, so
#   per call = (Ir(K) - Ir(0)) / K,
# and (Ir(2K) - Ir(K)) / K is printed next to it as a check that the count is linear in K.
# Also printed: the inclusive count of the variant's own function (callgrind_annotate),
# which leaves out the driver's loop and its copy of the returned n×n matrix, per call as
# (in-function Ir(2K) - in-function Ir(K)) / K (the agreement check may inline the
# variants or call them once, and a first call also pays for resolving libm's tanh).
# Instruction counts are deterministic: rerunning gives the same numbers.
#
# glibc's memcpy/memset use `rep movsb`/`rep stosb` above a few KiB, and valgrind counts
# every byte of those as one instruction (a 32 KiB copy of a 64×64 Jacobian would count
# as 32768). GLIBC_TUNABLES below moves those thresholds out of reach so that copies use
# the vector loops and are counted as the ~1/10 as many instructions they are. Set
# CALLGRIND_KEEP_REP=1 to measure with the default glibc settings instead.
#
# usage: scripts/callgrind.sh [K-scale]   (default 1; K per variant/size is multiplied by it)
set -euo pipefail

cd "$(dirname "$0")/.."
scale="${1:-1}"

command -v valgrind >/dev/null || { echo "valgrind not found" >&2; exit 1; }

exe=$(cargo bench --bench callgrind_layer --no-run --message-format=json 2>/dev/null \
    | grep -o '"executable":"[^"]*callgrind_layer[^"]*"' | tail -n1 | cut -d'"' -f4)
[ -x "$exe" ] || { echo "could not build/find the callgrind_layer executable" >&2; exit 1; }

if [ "${CALLGRIND_KEEP_REP:-0}" != 1 ]; then
    export GLIBC_TUNABLES=glibc.cpu.x86_rep_movsb_threshold=1073741824:glibc.cpu.x86_rep_stosb_threshold=1073741824
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The function each variant runs.
function_of() {
    case "$1" in
        generated) echo layer_jacobian ;;
        hand_written) echo hand_layer_jacobian ;;
        num_dual) echo num_dual_layer_jacobian ;;
        finite_differences) echo fd_layer_jacobian ;;
    esac
}

# One run, callgrind_layer VARIANT N K; prints "total inclusive": all instructions executed,
# and those inside the variant's function (inclusive of its callees: tanh, memcpy, ...).
ir() {
    valgrind --tool=callgrind --callgrind-out-file="$tmp/out" "$exe" "$1" "$2" "$3" 2>"$tmp/log" \
        || { cat "$tmp/log" >&2; exit 1; }
    local total fn
    total=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$tmp/log")
    fn=$(callgrind_annotate --inclusive=yes --threshold=100 "$tmp/out" 2>/dev/null \
        | grep -F "::common::$(function_of "$1") [" | head -n1 | awk '{ gsub(",", "", $1); print $1 }' || true)
    echo "$total ${fn:-0}"
}

# Calls per measurement, chosen so that each valgrind run stays around a second.
calls() {
    case "$1/$2" in
        generated/16 | hand_written/16) echo 2000 ;;
        generated/64 | hand_written/64) echo 200 ;;
        num_dual/16) echo 500 ;;
        num_dual/64) echo 20 ;;
        finite_differences/16) echo 50 ;;
        finite_differences/64) echo 4 ;;
    esac
}

declare -A per_call
declare -A in_fn
printf '%-20s %4s %6s %14s %16s %14s\n' variant n K 'Ir/call' 'check (2K-K)/K' 'in function'
for n in 16 64; do
    for v in generated hand_written num_dual finite_differences; do
        k=$(( $(calls "$v" "$n") * scale ))
        read -r t0 _ < <(ir "$v" "$n" 0)
        read -r t1 f1 < <(ir "$v" "$n" "$k")
        read -r t2 f2 < <(ir "$v" "$n" $((2 * k)))
        per_call[$v/$n]=$(( (t1 - t0) / k ))
        in_fn[$v/$n]=$(( (f2 - f1) / k ))
        printf '%-20s %4s %6s %14s %16s %14s\n' "$v" "$n" "$k" "${per_call[$v/$n]}" $(( (t2 - t1) / k )) "${in_fn[$v/$n]}"
    done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

for what in per_call in_fn; do
    echo
    [ "$what" = per_call ] && echo "ratios of Ir/call" || echo "ratios of Ir in the function"
    printf '%4s %24s %24s %30s\n' n 'generated/hand_written' 'num_dual/generated' 'finite_differences/generated'
    for n in 16 64; do
        declare -n c=$what
        printf '%4s %24s %24s %30s\n' "$n" "$(ratio "${c[generated/$n]}" "${c[hand_written/$n]}")" \
            "$(ratio "${c[num_dual/$n]}" "${c[generated/$n]}")" \
            "$(ratio "${c[finite_differences/$n]}" "${c[generated/$n]}")"
        unset -n c
    done
done

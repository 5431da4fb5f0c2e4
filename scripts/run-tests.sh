#!/usr/bin/env bash
# Run test levels and print one summary line at the end:
#   total: N passed, N failed, N skipped
#
# usage: run-tests.sh unit BIN...          cmocka unit test binaries
#        run-tests.sh sim BIN...           simulations (one test each)
#        run-tests.sh e2e                  pytest tests/e2e (E2E_TESTS: files to run instead;
#                                          E2E_JOBS: files at once, default CPUs, at most 2)
#        run-tests.sh tools                pytest tests/tools (host Python tools)
#        run-tests.sh all UNIT... -- SIM...
# Exit status is non-zero when anything failed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
PYTHON=${PYTHON:-/usr/bin/python3}
logdir="$root/build/logs"
mkdir -p "$logdir"
passed=0 failed=0 skipped=0
failures=()

run_unit() {
    # cmocka's TAP output: "1..N" plans, then "ok K - name" / "not ok K - name".
    # A binary that crashes or prints fewer results than it planned fails.
    for bin in "$@"; do
        name=$(basename "$bin")
        out="$logdir/unit-$name.log"
        CMOCKA_MESSAGE_OUTPUT=tap "$bin" >"$out" 2>&1
        rc=$?
        plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$out" | awk '{s += $1} END {print s + 0}')
        p=$(grep -c '^ok [0-9]' "$out")
        f=$(grep -c '^not ok [0-9]' "$out")
        if [ $((p + f)) -lt "$plan" ] || { [ $rc -ne 0 ] && [ "$f" = 0 ]; }; then
            f=$((f + 1))  # crashed or stopped early
        fi
        passed=$((passed + p)); failed=$((failed + f))
        printf 'unit  %-24s %3d passed %3d failed\n' "$name" "$p" "$f"
        if [ "$f" != 0 ]; then failures+=("unit $name (log: $out)"); grep -E '^not ok|^#|ERROR|Failure|error:|runtime error' "$out" | head -10; fi
    done
}

run_tools() {
    # Host-side Python tools (layer check, log splitter, ...): pytest tests/tools
    out="$logdir/tools.log"
    (cd "$root" && "$PYTHON" -m pytest -q tests/tools 2>&1) >"$out"
    rc=$?
    line=$(grep -E '[0-9]+ (passed|failed)' "$out" | tail -1)
    p=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '^[0-9]+'); p=${p:-0}
    f=$(grep -oE '[0-9]+ (failed|error)' <<<"$line" | grep -oE '^[0-9]+' | awk '{s+=$1} END {print s+0}')
    if [ $rc -ne 0 ] && [ "$f" = 0 ]; then f=1; fi
    passed=$((passed + p)); failed=$((failed + f))
    printf 'tools %-24s %3d passed %3d failed\n' "pytest tests/tools" "$p" "$f"
    [ "$f" != 0 ] && { failures+=("tools (log: $out)"); tail -20 "$out"; }
}

run_sim() {
    for bin in "$@"; do
        name=$(basename "$bin")
        out="$logdir/sim-$name.log"
        start=$(date +%s)
        if "$bin" >"$out" 2>&1; then
            passed=$((passed + 1)); status=passed
        else
            failed=$((failed + 1)); status=FAILED; failures+=("sim $name (log: $out)")
            tail -5 "$out"
        fi
        printf 'sim   %-24s %s in %ss: %s\n' "$name" "$status" "$(( $(date +%s) - start ))" \
            "$(tail -1 "$out")"
    done
}

# How many e2e files run at once (pytest-xdist, --dist loadfile): each QEMU
# TCG or Bochs boot keeps about one host thread busy, so one worker per CPU,
# at most 2 by default. E2E_JOBS=1 runs them serially.
run_e2e() {
    # E2E_TESTS="tests/e2e/test_a.py tests/e2e/test_b.py::test_c": a subset
    local tests jobs par=()
    read -ra tests <<<"${E2E_TESTS:-tests/e2e}"
    jobs=${E2E_JOBS:-$(nproc 2>/dev/null || echo 1)}
    [ -n "${E2E_JOBS:-}" ] || [ "$jobs" -le 2 ] || jobs=2
    case $jobs in
        ''|*[!0-9]*|0) echo "run-tests.sh: E2E_JOBS='$jobs': expected a number of workers, 1 or more" >&2
                       exit 2 ;;
    esac
    if [ "$jobs" -gt 1 ]; then
        if "$PYTHON" -c 'import xdist' 2>/dev/null; then
            # A file's tests stay together on one worker, in order (files
            # batch boots and share module fixtures).
            par=(-n "$jobs" --dist loadfile)
        else
            echo "e2e: pytest-xdist missing (package python3-pytest-xdist, scripts/deps.sh): running serially"
            jobs=1
        fi
    fi
    out="$logdir/e2e.log"
    start=$(date +%s)
    (cd "$root" && "$PYTHON" -m pytest -v -rs "${par[@]}" "${tests[@]}" 2>&1) | tee "$out" | \
        grep -E '(PASSED|FAILED|SKIPPED|ERROR)|^SKIPPED|^FAILED'
    rc=${PIPESTATUS[0]}
    echo "e2e: ${tests[*]}: $jobs worker(s), $(( $(date +%s) - start ))s"
    line=$(grep -E '^=+ .*(passed|failed|skipped|error|no tests ran).* in [0-9.]+s' "$out" | tail -1)
    for kind in passed failed skipped error; do
        n=$(grep -oE "[0-9]+ $kind" <<<"$line" | grep -oE '^[0-9]+')
        n=${n:-0}
        case $kind in
            passed) passed=$((passed + n)) ;;
            skipped) skipped=$((skipped + n)) ;;
            *) failed=$((failed + n)); [ "$n" != 0 ] && failures+=("e2e: $n $kind (log: $out)") ;;
        esac
    done
    if [ -z "$line" ]; then
        failed=$((failed + 1)); failures+=("e2e: pytest did not run (log: $out)")
    elif [ "$rc" -ne 0 ] && ! grep -qE '[0-9]+ (failed|error)' <<<"$line"; then
        # e.g. 5: no tests collected (a mistyped E2E_TESTS), 2: interrupted
        failed=$((failed + 1)); failures+=("e2e: pytest exited with $rc: $line (log: $out)")
    fi
}

level=${1:?usage: run-tests.sh unit|sim|e2e|all ...}
shift
case "$level" in
    unit) run_unit "$@" ;;
    sim) run_sim "$@" ;;
    e2e) run_e2e ;;
    tools) run_tools ;;
    all)
        units=() sims=()
        while [ $# -gt 0 ] && [ "$1" != -- ]; do units+=("$1"); shift; done
        [ $# -gt 0 ] && shift
        sims=("$@")
        echo "== unit tests"; run_unit "${units[@]}"
        echo "== simulations"; run_sim "${sims[@]}"
        echo "== host tools"; run_tools
        echo "== end-to-end tests"; run_e2e
        ;;
    *) echo "run-tests.sh: unknown level '$level'" >&2; exit 2 ;;
esac

if [ ${#failures[@]} -gt 0 ]; then
    echo "failures:"
    printf '  %s\n' "${failures[@]}"
fi
echo "total: $passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]

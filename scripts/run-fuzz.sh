#!/usr/bin/env bash
# Run every libFuzzer target for SECONDS each, with a corpus kept in
# build/fuzz-corpus/NAME so later runs start where earlier ones stopped.
# usage: run-fuzz.sh SECONDS BIN...
set -uo pipefail
secs=${1:?usage: run-fuzz.sh SECONDS BIN...}
shift
rc=0
for bin in "$@"; do
    name=$(basename "$bin")
    corpus=build/fuzz-corpus/$name
    mkdir -p "$corpus" build/fuzz-artifacts build/logs
    echo "== fuzz $name for ${secs}s"
    if "$bin" -max_total_time="$secs" -print_final_stats=1 \
        -artifact_prefix=build/fuzz-artifacts/$name- "$corpus" >build/logs/fuzz-$name.log 2>&1; then
        grep -E 'stat::number_of_executed_units|stat::new_units_added' build/logs/fuzz-$name.log
        echo "fuzz $name: no failure"
    else
        rc=1
        tail -30 build/logs/fuzz-$name.log
        echo "fuzz $name: FAILED (crash input in build/fuzz-artifacts/)"
    fi
done
exit $rc

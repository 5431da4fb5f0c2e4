# shellcheck shell=dash disable=SC2034,SC2015
# (SC2034: $reason is read by init; SC2015: `a && b || fail` means fail when
# either step fails, as intended)
# The guest kit's application workloads (docs/workloads.md), sourced by
# tests/guest/init's `app` check from /usr/share/pv/apps.sh, which
# scripts/guest-apps.sh packs into apps.img with the programs.
#
#   pv.app=redis|sqlite  pv.appmib=MIB (default 64)
#
# app_main runs the app named by pv.app, prints its pv-result lines and
# returns 0 when its result checked out, else sets $reason and returns 1.
# Uses init's say, cmdline_arg and $reason.

APP_PORT=6379
APP_VALUE=1024          # redis value size, bytes
APP_ROW=1000            # sqlite row payload, bytes
APP_SAMPLES=1024        # redis values compared byte for byte after the run
APP_MIB_MAX=65536

# Seconds between two `apptool now` readings, 3 decimals.
secs_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
# N per S seconds, 1 decimal (0 when S is 0).
per_sec() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.1f", (s > 0 ? n / s : 0) }'; }

# ---- redis ------------------------------------------------------------------

redis_pid=""
redis_stop() {
    [ -n "$redis_pid" ] || return 0
    redis-cli -p $APP_PORT shutdown nosave >/dev/null 2>&1 || kill "$redis_pid" 2>/dev/null
    wait "$redis_pid" 2>/dev/null
    redis_pid=""
}

# The value of column NAME of redis-benchmark's --csv GET row.
bench_col() { # file name
    awk -F, -v want="$2" '
        { gsub(/"/, "") }
        $1 == "test" { for (i = 1; i <= NF; i++) col[$i] = i; next }
        $1 == "GET" && (want in col) { print $(col[want]); exit }' "$1"
}

app_redis() {
    mib=$1
    keys=$((mib * 1048576 / APP_VALUE))
    ip link set lo up 2>/tmp/app.err || { reason="ip link set lo up: $(head -n 1 /tmp/app.err)"; return 1; }
    say "app redis mib=$mib: $keys keys of $APP_VALUE bytes, redis-benchmark GET x $keys"
    # no persistence: the data set lives in memory only
    redis-server --bind 127.0.0.1 --port $APP_PORT --save '' --appendonly no \
        --protected-mode no --logfile /tmp/redis.log &
    redis_pid=$!

    t0=$(apptool now)
    apptool redis-fill $APP_PORT "$keys" $APP_VALUE > /tmp/app.out 2>&1
    rc=$?
    t1=$(apptool now)
    cat /tmp/app.out
    if [ $rc -ne 0 ]; then
        reason="fill: $(tail -n 1 /tmp/app.out)"
        redis_stop
        return 1
    fi
    s=$(secs_between "$t0" "$t1")
    echo "pv-result: workload=redis test=fill secs=$s ops_s=$(per_sec "$keys" "$s")" \
         "mib_s=$(per_sec "$mib" "$s") keys=$keys"

    t0=$(apptool now)
    redis-benchmark -p $APP_PORT -t get -r "$keys" -n "$keys" -d $APP_VALUE -c 16 --csv \
        > /tmp/bench.csv 2>/tmp/app.err
    rc=$?
    t1=$(apptool now)
    rps=$(bench_col /tmp/bench.csv rps)
    p50=$(bench_col /tmp/bench.csv p50_latency_ms)
    p99=$(bench_col /tmp/bench.csv p99_latency_ms)
    if [ $rc -ne 0 ] || [ -z "$rps" ] || [ -z "$p50" ] || [ -z "$p99" ]; then
        reason="redis-benchmark (status $rc) gave no GET figures: $(head -n 1 /tmp/app.err)"
        redis_stop
        return 1
    fi
    s=$(secs_between "$t0" "$t1")
    echo "pv-result: workload=redis test=GET secs=$s ops_s=$rps p50_ms=$p50 p99_ms=$p99" \
         "requests=$keys"

    apptool redis-check $APP_PORT "$keys" $APP_VALUE $APP_SAMPLES > /tmp/app.out 2>&1
    rc=$?
    cat /tmp/app.out
    redis_stop
    [ $rc -eq 0 ] || { reason="check: $(tail -n 1 /tmp/app.out)"; return 1; }
}

# ---- sqlite -----------------------------------------------------------------

# Run SQL on the database; its output in /tmp/sql.out, errors in $reason.
sql() { # what sql
    if ! sqlite3 -batch -bail /tmp/app/db.sqlite "$2" > /tmp/sql.out 2>/tmp/app.err; then
        reason="sqlite3 $1: $(head -n 1 /tmp/app.err)"
        return 1
    fi
}

# Time the SQL of phase $1 over $3 rows and print its pv-result line.
sql_phase() { # phase sql rows
    t0=$(apptool now)
    sql "$1" "$2" || return 1
    t1=$(apptool now)
    s=$(secs_between "$t0" "$t1")
    echo "pv-result: workload=sqlite test=$1 secs=$s ops_s=$(per_sec "$3" "$s") rows=$3"
}

expect_sql() { # what want
    got=$(tr '\n' ' ' < /tmp/sql.out | sed 's/ $//')
    [ "$got" = "$2" ] || { reason="$1: sqlite3 returned '$got', expected '$2'"; return 1; }
}

app_sqlite() {
    mib=$1
    n=$((mib * 1024))     # rows of APP_ROW bytes: about MIB MiB of table
    L=$APP_ROW
    mkdir -p /tmp/app
    # tmpfs: the database lives in guest RAM (the page cache)
    mount -t tmpfs -o size=95% tmpfs /tmp/app 2>/tmp/app.err ||
        { reason="mount tmpfs: $(head -n 1 /tmp/app.err)"; return 1; }
    say "app sqlite mib=$mib: $n rows of $L bytes on tmpfs, 2 indexes, $n lookups"
    # The row with id i: grp i % 97, k a bijection of i (48271 is a
    # primitive root of the prime 2^31 - 1), pad the id in 8 digits then
    # L - 8 copies of one letter that follows from i.
    pad_of="printf('%08d', id) || printf('%.*c', $L - 8, char(97 + id % 26))"
    sql_phase insert "PRAGMA journal_mode=OFF;
        CREATE TABLE t(id INTEGER PRIMARY KEY, grp INTEGER NOT NULL, k INTEGER NOT NULL,
                       pad TEXT NOT NULL);
        BEGIN;
        WITH RECURSIVE c(id) AS (SELECT 1 UNION ALL SELECT id + 1 FROM c WHERE id < $n)
        INSERT INTO t SELECT id, id % 97, id * 48271 % 2147483647, $pad_of FROM c;
        COMMIT;" "$n" || { umount /tmp/app; return 1; }
    say "app sqlite: database $(stat -c %s /tmp/app/db.sqlite) bytes"
    sql_phase index "CREATE INDEX t_grp ON t(grp); CREATE UNIQUE INDEX t_k ON t(k);" "$n" ||
        { umount /tmp/app; return 1; }
    # n point lookups through t_k, each reading its row: the j-th asks for
    # id (j * 7919) % n + 1; the sum of the ids found is known in advance.
    want=$(awk -v n="$n" -v L="$L" 'BEGIN {
        for (j = 1; j <= n; j++) s += (j * 7919) % n + 1
        printf "%d|%.0f|%.0f", n, s, n * L }')
    sql_phase lookup "WITH RECURSIVE q(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM q WHERE j < $n)
        SELECT count(*), sum(t.id), sum(length(t.pad)) FROM q
        JOIN t ON t.k = ((q.j * 7919) % $n + 1) * 48271 % 2147483647;" "$n" &&
    expect_sql lookup "$want" || { umount /tmp/app; return 1; }
    # every row's content, then one group through t_grp
    want=$(awk -v n="$n" -v L="$L" 'BEGIN {
        for (i = 42; i <= n; i += 97) { c++; s += i }
        printf "%d|%.0f|%.0f %d|%.0f", n, n * L, n * (n + 1) / 2, c, s }')
    sql_phase scan "SELECT count(*), sum(length(pad)), sum(id) FROM t WHERE pad = $pad_of;
        SELECT count(*), sum(id) FROM t WHERE grp = 42;" "$n" &&
    expect_sql scan "$want" || { umount /tmp/app; return 1; }
    sql integrity "PRAGMA integrity_check;" && expect_sql integrity_check ok ||
        { umount /tmp/app; return 1; }
    echo "sqlite: $n rows, lookups, scan and integrity_check verified"
    umount /tmp/app
}

app_main() {
    export PATH=/bin:/usr/bin
    app=$(cmdline_arg pv.app)
    mib=$(cmdline_arg pv.appmib)
    mib=${mib:-64}
    case "$mib" in
        ''|*[!0-9]*) reason="pv.appmib=$mib: not a number of MiB"; return 1 ;;
    esac
    [ "$mib" -ge 1 ] && [ "$mib" -le $APP_MIB_MAX ] ||
        { reason="pv.appmib=$mib: out of range 1-$APP_MIB_MAX"; return 1; }
    case "$app" in
        redis) app_redis "$mib" ;;
        sqlite) app_sqlite "$mib" ;;
        '') reason="pv.app=NAME missing (known: redis sqlite)"; return 1 ;;
        *) reason="unknown pv.app=$app (known: redis sqlite)"; return 1 ;;
    esac
}

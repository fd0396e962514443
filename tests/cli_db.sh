#!/usr/bin/env bash
# Results databases are never lost, damaged or adopted (issue 10, items 6-9):
# paths that would store nothing are refused; an SQLite file that is not ours
# is left byte for byte as it was; a failed merge leaves no output behind;
# read-only storage can be read by summary, export and merge; a command whose
# output cannot be written exits non-zero.
# Usage: cli_db.sh MINIMA
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp"; rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
pass=0 fail=0
ok() { pass=$((pass + 1)); }
no() { echo "FAIL: $*"; fail=$((fail + 1)); }
check() { local what=$1; shift; if "$@"; then ok; else no "$what"; fi; }
S=(--generate xor --n 30 --arch 2-2-1 --steps 50 --restarts 2 --threads 1)

"$bin" sweep "${S[@]}" --db '' > out 2> err
check "--db '': exit 1" test $? = 1
check "--db '': says why" grep -q "empty database path" err
check "--db '': nothing on stdout" test ! -s out

# An SQLite file of someone else's: refused, not one byte changed, no WAL.
sqlite3 theirs.db 'CREATE TABLE meta (key TEXT, value TEXT); INSERT INTO meta VALUES ("owner", "them")'
cp theirs.db theirs.orig
"$bin" sweep "${S[@]}" --db theirs.db > /dev/null 2> err
check "foreign database: exit 1" test $? = 1
check "foreign database: unchanged" cmp -s theirs.db theirs.orig
check "foreign database: no WAL file" test ! -e theirs.db-wal
check "foreign database: still in rollback journal mode" test "$(sqlite3 theirs.db 'PRAGMA journal_mode')" = delete
"$bin" merge theirs.db theirs.orig > /dev/null 2>&1
check "merge into a foreign database: unchanged" cmp -s theirs.db theirs.orig

# A failed merge removes the output it created, and keeps one that existed.
"$bin" sweep "${S[@]}" --db a.db > /dev/null 2>&1
echo "not a database" > junk.db
"$bin" merge fresh.db a.db junk.db > /dev/null 2> err
check "failed merge: exit 1" test $? = 1
check "failed merge: no output left" test ! -e fresh.db -a ! -e fresh.db-wal -a ! -e fresh.db-shm
cp a.db keep.db
"$bin" merge keep.db junk.db > /dev/null 2>&1
check "failed merge: an existing output stays" cmp -s keep.db a.db

# Read-only storage: a folder the reader cannot write (as root, permission
# bits do not bind, so the reader runs as an unprivileged user).
mkdir ro && cp a.db ro/ && chmod 755 "$tmp" && chmod 555 ro && chmod 444 ro/a.db
as_nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
if "${as_nobody[@]}" "$bin" --version > /dev/null 2>&1; then
  "${as_nobody[@]}" "$bin" export ro/a.db > ro.csv 2> err
  check "read-only storage: export works" test $? = 0
  "$bin" export a.db > rw.csv
  check "read-only storage: the same export" cmp -s ro.csv rw.csv
  "${as_nobody[@]}" "$bin" summary ro/a.db > /dev/null 2> err
  check "read-only storage: summary works" test $? = 0
  mkdir w && chmod 777 w
  "${as_nobody[@]}" "$bin" merge w/m.db ro/a.db > /dev/null 2> err
  check "read-only storage: merge input works" test $? = 0
  check "read-only storage: nothing written beside it" test -z "$(ls ro | grep -v '^a.db$')"
else
  no "cannot run $bin as an unprivileged user (setpriv): read-only storage untested"
fi

# Any database, population rows included (issue 9): a sweep's rows and
# Safran-Shamir rows merged into one database are all exported, and summary
# tells the distinct spurious minima of both kinds apart (none reads ? / -1):
# the network rows by the catalogue, the population rows by their model's
# symmetries, with the experiment's own counts.
"$bin" sweep --generate xor --n 100 --noise 0.1 --arch 2-2-1 --act tanh --optimizer lbfgs --polish --steps 3000 \
  --restarts 10 --threads 2 --global-loss 0 --db net.db > /dev/null 2>&1
"$bin" experiment safran-shamir --k 12,13 --extra 0,1 --restarts 60 --seed 3 --json --db pop.db > pop.json 2> /dev/null
runs() { sqlite3 "$1" 'SELECT count(*) FROM runs'; }
"$bin" merge mixed.db net.db pop.db > merge.out 2> err
check "mixed merge: exit 0" test $? = 0
check "mixed merge: every run added" grep -q "$(($(runs net.db) + $(runs pop.db))) runs added" merge.out
rows_of() { "$bin" export "$1" --no-timings | /usr/bin/python3 -c '
import csv, sys
for r in csv.DictReader(sys.stdin):
    del r["setting"]  # ids are renumbered by the merge
    print(sorted(r.items()))' | sort; }
check "mixed export: the network and population rows, none dropped or changed" \
  cmp -s <(rows_of mixed.db) <(sort -m <(rows_of net.db) <(rows_of pop.db))
"$bin" summary mixed.db --json > mixed.json 2> err
check "mixed summary --json: exit 0" test $? = 0
check "mixed summary: distinct minima of both kinds; the population rows' counts, % spurious, intervals and means are the experiment's" \
  /usr/bin/python3 -c '
import json, sys
s = json.load(open("mixed.json"))["settings"]
rows = [json.loads(l) for l in open("pop.json")]
want = {"k=%d n=%d" % (r["k"], r["n"]): r["distinct"] for r in rows}
got, net = {}, []
close = lambda a, b: (a is None and b is None) or abs(a - b) <= 1e-12 * max(1, abs(b))
for x in s:
    o = dict(kv.split("=", 1) for kv in x["options"].split())
    if o.get("experiment") != "safran-shamir":
        net.append(x)
        continue
    key = "k=%s n=%s" % (o["k"], o["n"])
    got[key] = x["spurious"]["distinct"]
    # the experiment row and the summary: one set of statistics
    r = [r for r in rows if "k=%d n=%d" % (r["k"], r["n"]) == key][0]
    c = x["classes"]["spurious"]
    assert all(close(100 * c[f], r[g]) for f, g in (("fraction", "spurious_pct"), ("lo", "spurious_lo"), ("hi", "spurious_hi"))), (key, c, r)
    assert close(x["spurious"]["mean_loss"], r["mean_loss"]) and close(x["spurious"]["mean_lambda_min"], r["mean_lambda_min"]), key
assert len(s) == len(rows) + 1 and len(net) == 1, len(s)
assert got == want and sum(want.values()) > 0, (got, want)
assert net[0]["spurious"]["count"] > 0 and net[0]["spurious"]["distinct"] >= 1, net[0]["spurious"]
'
"$bin" summary mixed.db > mixed.txt 2> err
check "mixed summary table: no ? in the minima column" \
  test "$(awk '$1 ~ /^[0-9]+$/ && / \? +[0-9]+ +[0-9]+  /' mixed.txt | wc -l)" = 0
check "mixed summary table: one row per setting" test "$(grep -cE '^ +[0-9]+ +[0-9]+ ' mixed.txt)" = 5
check "mixed summary table: the sweep's row is not labelled by the experiment's options" \
  bash -c '! grep -q "(unset)" mixed.txt'

# Output that cannot be written is a failure.
for cmd in "attack list" "experiment safran-shamir --k 6 --restarts 3" "train --steps 5"; do
  # shellcheck disable=SC2086
  "$bin" $cmd > /dev/full 2> err
  rc=$?
  check "'$cmd' > /dev/full: exit 1" test $rc = 1
  check "'$cmd' > /dev/full: says so" grep -q "cannot write" err
done

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]

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

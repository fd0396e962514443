#!/usr/bin/env bash
# Bad input gets one line on stderr naming the problem, exit status 1, no
# output on stdout, and no crash or sanitizer report.
# Usage: cli_badinput.sh MINIMA [--table]   (--table prints README's table)
set -u
bin=$1
table=${2:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

printf 'x1,x2,y\n0.5,1.25,1\n-0.75,0.3,-1\n1.5,-2.0,1\n' > "$tmp/good.csv"
printf 'x1,x2,y\n0.5,1.25,1\n-0.75,abc,-1\n' > "$tmp/word.csv"
printf 'x1,x2,y\n0.5,1.25,1\n-0.75,-1\n' > "$tmp/short.csv"
printf 'x1,x2,y\n0.5,nan,1\n' > "$tmp/nan.csv"
printf 'x1,x2,y\n0.5,1e999,1\n' > "$tmp/inf.csv"
printf '' > "$tmp/empty.csv"
printf 'x1,x2,y\n' > "$tmp/header.csv"
printf 'x1,x2,y\n0.5,1.25,0.5\n' > "$tmp/label.csv"
printf 'x1,x2,y\n0.5,1.25,1\n0.5,1.25,-1\n' > "$tmp/bin.csv"
printf 'x1,x2,y\n0.5,1.25,1\n0.5,2.25,-1\n' > "$tmp/const.csv"
mkdir "$tmp/dir.csv"
sqlite3 "$tmp/theirs.db" 'CREATE TABLE t (x); INSERT INTO t VALUES (1)'
seq 1 33 > "$tmp/p33"
seq 1 30 > "$tmp/p30"
{ seq 1 32; echo nan; } > "$tmp/pnan"
{ seq 1 32; echo 1.5x; } > "$tmp/pword"
{ seq 1 32; printf '33\0 junk\n'; } > "$tmp/pnul"
{ printf '\xe2\x80\x8b'; seq 1 33; } > "$tmp/pzwsp"
seq 1 34 > "$tmp/p34"
seq 1 9 | awk '{ print $1 / 10 }' > "$tmp/p9"
seq 1 8 > "$tmp/p8"
printf '{"base": {"generate": "xor", "seed": 9007199254740993}}\n' > "$tmp/bigseed.json"
{ printf 'x1,x2,y\n0.5,'; head -c 17000000 /dev/zero | tr '\0' 0; printf ',1\n'; } > "$tmp/longline.csv"
D="--data $tmp/good.csv --label y"
printf '1 0.5\n0.25 1\n' > "$tmp/pt22"
printf '1 0.5 0.1\n0.25 1 0.2\n' > "$tmp/pt23"
printf '1 0.5\n' > "$tmp/pt12"
printf '1 nan\n0.25 1\n' > "$tmp/ptnan"
printf '1 0.5\n0 0\n' > "$tmp/ptzero"
printf '1 0.5\n0.25 x\n' > "$tmp/ptword"
printf '{"certificate": "something else"}\n' > "$tmp/notcert"
# A sweep stored on chg.csv, whose contents then change under the same path;
# a second database holds the same setting run on the new contents.
cp "$tmp/good.csv" "$tmp/chg.csv"
W="sweep --data $tmp/chg.csv --label y --steps 5 --restarts 1"
# shellcheck disable=SC2086
"$bin" $W --db "$tmp/chg.db" > /dev/null 2>&1
printf 'x1,x2,y\n0.5,1.25,1\n-0.75,0.3,-1\n1.5,-2.5,1\n' > "$tmp/chg.csv"
# shellcheck disable=SC2086
"$bin" $W --db "$tmp/chg2.db" > /dev/null 2>&1
# A database whose setting names data that is no longer a plain file: a
# FIFO (reading it would block) and /dev/zero (it never ends).
cp "$tmp/good.csv" "$tmp/ff.csv"
"$bin" sweep --data "$tmp/ff.csv" --label y --steps 5 --restarts 1 --db "$tmp/ff.db" > /dev/null 2>&1
rm "$tmp/ff.csv" && mkfifo "$tmp/ff.csv"
cp "$tmp/ff.db" "$tmp/zero.db"
sqlite3 "$tmp/zero.db" "UPDATE settings SET options = replace(options, '$tmp/ff.csv', '/dev/zero')"

# Two settings of different widths, one run each, whose end points are
# stored as if they were spurious minima (path's --db end points).
"$bin" sweep $D --grid arch=2-2-1,2-3-1 --steps 5 --restarts 1 --db "$tmp/two.db" > /dev/null 2>&1
sqlite3 "$tmp/two.db" "UPDATE runs SET theta = zeroblob(8 * 9) WHERE setting = 1; UPDATE runs SET theta = zeroblob(8 * 13) WHERE setting = 2"

# description | arguments | expected part of the message
cases=(
  "a network of ~2^31 parameters: past physical memory|train --arch 2-46000-46000-1|(estimate), more than the"
  "sweep: threads x runs past physical memory|sweep --generate xor --arch 2-2000-2000-1 --threads 4096 --restarts 1 --db $tmp/thr.db|the sweep (4096 runs at a time) needs about"
  "summary: the database names a FIFO as data|summary $tmp/ff.db|not a regular file"
  "summary: the database names /dev/zero as data|summary $tmp/zero.db|not a regular file"
  "missing data file|eval --data $tmp/none.csv --label y --params $tmp/p33|cannot open"
  "data path is a directory|eval --data $tmp/dir.csv --label y --params $tmp/p33|dir.csv"
  "empty CSV|eval --data $tmp/empty.csv --label y --params $tmp/p33|empty"
  "header only|eval --data $tmp/header.csv --label y --params $tmp/p33|no data rows"
  "non-numeric field|eval --data $tmp/word.csv --label y --params $tmp/p33|word.csv:3:2"
  "short row|eval --data $tmp/short.csv --label y --params $tmp/p33|short.csv:3"
  "NaN in data|eval --data $tmp/nan.csv --label y --params $tmp/p33|nan.csv:2:2"
  "Inf (overflow) in data|eval --data $tmp/inf.csv --label y --params $tmp/p33|inf.csv:2:2"
  "label column absent|eval --data $tmp/good.csv --label z --params $tmp/p33|'z'"
  "label index out of range|eval --data $tmp/good.csv --label 7 --params $tmp/p33|7"
  "--data without --label|eval --data $tmp/good.csv --params $tmp/p33|--label"
  "margin loss, label not -1/+1|eval --data $tmp/label.csv --label y --params $tmp/p33|label 0.5"
  "softmax label not a class|eval --data $tmp/label.csv --label y --loss softmax_ce --params $tmp/p33|class"
  "arch input width != features|eval $D --arch 3-8-1 --params $tmp/p33|3"
  "arch outputs != label columns|eval $D --arch 2-8-2 --params $tmp/p33|output"
  "params file too short|eval $D --params $tmp/p30|30 numbers"
  "params file missing|eval $D --params $tmp/none|cannot open"
  "NaN in params|eval $D --params $tmp/pnan|not finite"
  "word in params|eval $D --params $tmp/pword|not a number"
  "NUL byte in params|eval $D --params $tmp/pnul|NUL byte at byte"
  "params from /dev/zero|eval $D --params /dev/zero|NUL byte at byte 1"
  "invisible character in params|eval $D --params $tmp/pzwsp|'\\xe2\\x80\\x8b1'"
  "params file too long|eval $D --params $tmp/p34|holds more numbers"
  "empty --label|eval --data $tmp/good.csv --label= --params $tmp/p33|label list '' is empty"
  "CSV line past 16 MiB|eval --data $tmp/longline.csv --label y --params $tmp/p33|line longer than"
  "zero width|train --arch 2-0-1|width"
  "absurd width|train --arch 2-100000000-1|width"
  "malformed arch|train --arch 2-x-1|arch"
  "--layers: unknown layer|train --layers conv2d-dense:1|conv2d"
  "--layers: dense without a width|train --layers dense|needs a width"
  "--layers: conv1d given a width|train --layers conv1d:4-dense:1|conv1d keeps"
  "--layers: zero width|train --layers dense:0-dense:1|between 1 and"
  "--layers: empty layer|train --layers dense:4--dense:1|empty"
  "--layers: MCN block (not implemented)|train --layers mcn-dense:1|could not be read"
  "--layers: outputs != label columns|eval $D --layers conv1d --params $tmp/p33|output"
  "both --arch and --layers|train --arch 2-2-1 --layers dense:1|use one"
  "unknown --init|train --init orthogonal|orthogonal"
  "--init identity without a square layer|train --arch 2-8-1 --init identity|square layer"
  "unknown option|train --frobnicate|unknown option"
  "unknown command|frobnicate|unknown command"
  "unknown activation|train --act relu6|relu6"
  "unknown loss|train --loss hinge|hinge"
  "unknown eliminator|train --eliminate two|two"
  "per-layer (not implemented)|train --eliminate per-layer|per-layer"
  "liang with 2 outputs|train --loss softmax_ce --arch 2-8-2 --eliminate liang|single output"
  "negative lambda|train --lambda -1|lambda"
  "non-numeric lr|train --lr fast|not a finite number"
  "zero lr|train --lr 0|out of range"
  "negative steps|train --steps -5|out of range"
  "option of another command|train --hessian|does not apply"
  "an experiment's option to train|train --no-shortcuts|does not apply"
  "a flag given a value|train --polish=yes|takes no value"
  "empty database path|sweep --generate xor --db=|non-empty value"
  "option without value|train --lr|needs a value"
  "both --data and --generate|train $D --generate xor|give one of"
  "unknown generator|train --generate moons|moons"
  "standardize a constant feature|train --data $tmp/const.csv --label y --standardize|constant"
  "p below 2|train --loss poly_hinge --p 1.5|out of range"
  "--slope without leaky_relu|train --slope 0.2|leaky_relu"
  "stray argument|train extra|unexpected argument"
  "--save-params to a missing folder|train --steps 5 --save-params $tmp/no/dir/p.txt|cannot write"
  "grid value listed twice|sweep --generate xor --restarts 1 --steps 5 --grid arch=2-2-1,2-2-1|twice"
  "database in memory|sweep --generate xor --restarts 1 --steps 5 --db :memory:|ordinary file path"
  "database as a URI|sweep --generate xor --restarts 1 --steps 5 --db file:$tmp/u.db|ordinary file path"
  "sweep into an SQLite file not ours|sweep --generate xor --restarts 1 --steps 5 --db $tmp/theirs.db|not a minima sweep database"
  "merge into an SQLite file not ours|merge $tmp/theirs.db $tmp/theirs.db|not a minima sweep database"
  "merge input not a database|merge $tmp/out.db $tmp/good.csv|good.csv"
  "unknown dataset|train --dataset mnist|unknown dataset 'mnist'"
  "binary labels of a 3-class set, no class|train --dataset iris --labels pm1|positive class"
  "unknown labelling|train --dataset iris --labels onehot|onehot"
  "--labels without --dataset|train --generate xor --labels pm1|--dataset only"
  "--dataset and --data together|train $D --dataset iris|one of --data, --dataset"
  "regions: width too small for any full rank|regions rank --d0 2 --n 50 --width 10,40|too small for any full rank"
  "regions: n out of range|regions rank --d0 2 --n 0 --width 10|--n '0' is out of range [1, 10000]"
  "regions: d0 out of range|regions rank --d0 20000 --n 10 --width 10|--d0 '20000' is out of range"
  "regions: no --width|regions rank --d0 2 --n 10|required"
  "regions: malformed width list|regions rank --d0 2 --n 10 --width 10..5|--width '10..5' is not a range"
  "regions: width list with a word|regions rank --d0 2 --n 10 --width 10,abc|--width '10,abc' is not a list"
  "regions: negative seed|regions rank --d0 2 --n 10 --width 10 --seed -1|--seed '-1' is not a non-negative integer"
  "regions: option of another command|regions rank --d0 2 --n 10 --width 10 --lr 0.1|does not apply"
  "regions: unknown subcommand|regions frobnicate|unknown subcommand"
  "genuine: not ReLU|regions genuine --generate xor --arch 2-4-1 --act tanh|relu"
  "genuine: two hidden layers|regions genuine --generate xor --arch 2-4-4-1|d-W-1"
  "karhadkar: unknown grid|experiment karhadkar --grid both2|--grid 'both2' is not one of d0, ratio, both"
  "karhadkar: ratio out of range|experiment karhadkar --ratio 0|--ratio '0': 0 is out of range"
  "karhadkar: trials not a number|experiment karhadkar --trials many|--trials 'many' is not an integer"
  "karhadkar: database in a missing folder|experiment karhadkar --n 10 --width 10 --trials 1 --db $tmp/none/k.db|$tmp/none/k.db"
  "karhadkar: not a minima database|experiment karhadkar --n 10 --width 10 --trials 1 --db $tmp/theirs.db|not a minima sweep database"
  "liu: unknown dataset|experiment liu --dataset mnist|unknown dataset"
  "liu: zero width|experiment liu --width 0|--width '0' is out of range [1, 1000]"
  "liu: zero step|experiment liu --lr 0|--lr '0' is out of range"
  "liu: a network option|experiment liu --arch 2-4-1|option '--arch' does not apply"
  "arena: a run option|experiment arena --quick --lr 0.1|does not apply"
  "arena: no restarts|experiment arena --quick --restarts 0|out of range"
  "arena: unwritable database|experiment arena --quick --db $tmp/dir.csv|dir.csv"
  "arena: a penalty out of range|experiment arena --quick --lambda 1,0|out of range"
  "arena: a penalty not a number|experiment arena --quick --lambda 0.1,ten|not a list of numbers"
  "saddles: dimension below 2|experiment saddles --dims 1..4|--dims '1..4'"
  "saddles: dimension listed twice|experiment saddles --dims 3,3 --restarts 1|3 listed twice"
  "saddles: zero escape curvature|experiment saddles --gamma 0|--gamma '0' is out of range"
  "saddles: start box past the saddle|experiment saddles --init 0.9|--init '0.9' is out of range"
  "saddles: step constant above 1|experiment saddles --c 2|--c '2' is out of range"
  "saddles: an option of another command|experiment saddles --lr 0.1|does not apply"
  "saddles: SQLite file not ours|experiment saddles --quick --db $tmp/theirs.db|not a minima sweep database"
  "balance: an activation without the invariant's control role|experiment balance --acts relu,quadratic|--acts 'relu,quadratic'"
  "balance: activation listed twice|experiment balance --acts relu,relu|--acts 'relu,relu'"
  "balance: zero step|experiment balance --steps 0.02,0|--steps '0.02,0'"
  "balance: horizon of too many iterations|experiment balance --horizon 1e6 --steps 0.001|1e+09 iterations"
  "balance: negative horizon|experiment balance --horizon -1|--horizon '-1' is out of range"
  "balance: an option it does not take|experiment balance --restarts 3|does not apply"
  "balance: SQLite file not ours|experiment balance --quick --db $tmp/theirs.db|not a minima sweep database"
  "residual: depth zero|experiment residual --depth 0|--depth '0'"
  "residual: fractional depth|experiment residual --depth 2,1.5|--depth '2,1.5'"
  "residual: depth listed twice|experiment residual --depth 2,2|distinct integers"
  "residual: condition number below 1|experiment residual --kappa 0.5|--kappa '0.5'"
  "residual: unknown target family|experiment residual --family pd,spd|--family 'pd,spd'"
  "residual: d out of range|experiment residual --d 0|out of range"
  "residual: zero steps|experiment residual --max-iter 0|out of range"
  "residual: empty figure prefix|experiment residual --plot=|needs a value"
  "residual: database in a missing folder|experiment residual --quick --db $tmp/none/r.db|$tmp/none/r.db"
  "implicit-bias: unknown network|experiment implicit-bias --nets rnn|--nets 'rnn'"
  "implicit-bias: depth zero|experiment implicit-bias --depth 0|--depth '0'"
  "implicit-bias: unknown teacher|experiment implicit-bias --teacher sparse|--teacher 'sparse'"
  "implicit-bias: zero step|experiment implicit-bias --lr 0|out of range"
  "implicit-bias: polygon of 3 sides|experiment implicit-bias --directions 3|out of range"
  "implicit-bias: no samples|experiment implicit-bias --n 0|out of range"
  "implicit-bias: residual's option|experiment implicit-bias --kappa 2|kappa"
  "prove: point row too long|prove population --k 2 --n 2 --point $tmp/pt23|expected 2 numbers"
  "prove: too few rows|prove population --k 2 --n 2 --point $tmp/pt12|expected 2 rows"
  "prove: NaN in the point|prove population --k 2 --n 2 --point $tmp/ptnan|non-finite value 'nan'"
  "prove: zero row|prove population --k 2 --n 2 --point $tmp/ptzero|unit 2 is zero"
  "prove: word in the point|prove population --k 2 --n 2 --point $tmp/ptword|not a number: 'x'"
  "prove: point file missing|prove population --k 2 --n 2 --point $tmp/none|cannot open"
  "prove: no --point|prove population --k 2 --n 2|needs --k, --n and --point"
  "prove: k zero|prove population --k 0 --n 2 --point $tmp/pt22|--k '0'"
  "prove: not a certificate|prove --check $tmp/notcert|not a certificate"
  "prove: k past the population limit|prove population --k 300 --n 2 --point $tmp/pt22|--k '300' is out of range [1, 256]"
  "prove: --check with --k|prove --check $tmp/notcert --k 2|no other option than --json"
  "prove: a stray argument|prove population now --k 2 --n 2 --point $tmp/pt22|unexpected argument 'now'"
  "attack: no name|attack|expected one of list, all, or an attack name"
  "attack: unknown name|attack nosuch|unknown attack 'nosuch'"
  "attack: no --out|attack dead-relu-hinge|needs --out DIR"
  "attack: lambda not a number|attack all --lambda fast|--lambda 'fast' is not a finite number"
  "attack: negative lambda|attack all --lambda -1|--lambda '-1' is out of range"
  "attack: an option of another command|attack all --seed 3|option '--seed' does not apply to 'attack'"
  "merge: an option|merge --out $tmp/m.db $tmp/a.db|option '--out' does not apply to 'merge'"
  "merge: no input|merge $tmp/m.db|give an output and at least one input"
  "spectrum: K larger than the parameters|spectrum $D --params $tmp/p33 --top 34|K = 34 is larger than the 33 free parameters"
  "spectrum: bottom K larger than the parameters|spectrum $D --params $tmp/p33 --bottom 40|K = 40 is larger than"
  "spectrum: fewer Lanczos steps than K|spectrum $D --params $tmp/p33 --top 8 --lanczos-steps 5|5 Lanczos steps cannot give 8"
  "spectrum: no --params|spectrum $D|--params FILE is required"
  "spectrum: --plot without --density|spectrum $D --params $tmp/p33 --plot $tmp/fig|add --density"
  "slice: unknown direction kind|slice $D --params $tmp/p33 --dir sideways|unknown direction kind 'sideways'"
  "slice: three directions|slice $D --params $tmp/p33 --dir filter,random,eig|at most two"
  "slice: toward without --to|slice $D --params $tmp/p33 --dir toward|needs --to FILE"
  "slice: --to without toward|slice $D --params $tmp/p33 --to $tmp/p33|--dir toward"
  "slice: reversed range|slice $D --params $tmp/p33 --range 1:-1|finite A < B"
  "slice: end point of another model|slice $D --params $tmp/p33 --dir toward --to $tmp/p34|holds more numbers"
  "path: one end point|path $D $tmp/p33|two end points A and B"
  "path: end points of different sizes|path $D $tmp/p33 $tmp/p30|30 numbers"
  "path: runs of different models|path --db $tmp/two.db 1:0 2:0|are points of different models"
  "path: malformed run|path --db $tmp/two.db 1 2:0|SETTING:RESTART"
  "path: run without a stored end point|path --db $tmp/chg.db 1:0 1:0|stores no end point"
  "path: negative spring|path $D $tmp/p33 $tmp/p33 --spring -1|--spring '-1' is out of range"
  "path: zero band tolerance|path $D $tmp/p33 $tmp/p33 --band-tol 0|--band-tol '0' is out of range"
  "prove network: ReLU|prove network --generate xor --arch 2-2-1 --act relu --params $tmp/p9|relu is not twice differentiable"
  "prove network: squared hinge|prove network --generate xor --arch 2-2-1 --act tanh --loss squared_hinge --params $tmp/p9|not twice differentiable at margin 1"
  "prove network: two hidden layers|prove network --generate xor --arch 2-2-2-1 --act tanh --params $tmp/p9|one hidden dense layer"
  "prove network: no --params|prove network --generate xor --arch 2-2-1 --act tanh|needs --params"
  "prove network: params too few|prove network --generate xor --arch 2-2-1 --act tanh --params $tmp/p8|p8"
  "prove network: both global bounds|prove network --generate xor --arch 2-2-1 --act tanh --params $tmp/p9 --global-upper 0.5 --global-point $tmp/p9|not both"
  "prove network: global upper NaN|prove network --generate xor --arch 2-2-1 --act tanh --params $tmp/p9 --global-upper nan|--global-upper"
  "JSON seed past 2^53|sweep --config $tmp/bigseed.json --restarts 1 --db $tmp/big.db|past 2^53"
  "data file changed under a stored sweep|$W --db $tmp/chg.db|was run on other data"
  "merge of databases run on other data|merge $tmp/chgm.db $tmp/chg.db $tmp/chg2.db|was run on other data there"
  "demo: zero threads|demo --threads 0|--threads '0'"
  "demo: an option of another command|demo --restarts 5|does not apply"
  "demo: a stray argument|demo now|unexpected argument 'now'"
  "experiment: no name|experiment --k 8|which experiment?"
  "experiment: unknown name|experiment tables|unknown experiment 'tables' (available: safran-shamir, eliminate"
)
# Under MPI (a fourth field: the launcher), when mpirun is here and minima
# was built with it: rank 0 cannot open the database, of a sweep or of an
# experiment on the runner (tests/cli_mpi.sh has the ranks started with
# other options).
mpirun=(mpirun -q --oversubscribe --allow-run-as-root -n 3)
if command -v mpirun > /dev/null && "$bin" --version | grep -q "(MPI)"; then
  cases+=("MPI: database cannot be opened|sweep --generate xor --steps 10 --restarts 2 --db $tmp/nodir/x.db|cannot open database|${mpirun[*]}")
  for e in saddles balance residual implicit-bias; do
    cases+=("MPI: experiment $e, database cannot be opened|experiment $e --quick --db $tmp/nodir/x.db|cannot open database|${mpirun[*]}")
  done
fi

pass=0 fail=0
[ "$table" = --table ] && printf '| bad input | command | message |\n|---|---|---|\n'
for c in "${cases[@]}"; do
  IFS='|' read -r what args want launch <<< "$c"
  # under the sanitizers, Open MPI's own leaks are not ours (tests/openmpi.supp)
  lsan=()
  [ -n "$launch" ] && lsan=(env "LSAN_OPTIONS=suppressions=$(dirname "$0")/openmpi.supp:print_suppressions=0"
                            ASAN_OPTIONS=fast_unwind_on_malloc=0)
  # shellcheck disable=SC2086
  "${lsan[@]}" $launch "$bin" $args > "$tmp/out" 2> "$tmp/err"
  rc=$?
  err=$(cat "$tmp/err")
  lines=$(wc -l < "$tmp/err")
  if [ "$table" = --table ]; then
    shown=${args//$tmp\//}
    msg=${err//$tmp\//}
    printf '| %s | `%sminima %s` | `%s` |\n' "$what" "${launch:+${launch/ -q --oversubscribe --allow-run-as-root/} }" "$shown" "${msg//|/\\|}"
    continue
  fi
  ok=1
  [ "$rc" = 1 ] || { echo "FAIL [$what]: exit $rc, expected 1"; ok=0; }
  [ "$lines" = 1 ] || { echo "FAIL [$what]: $lines lines on stderr, expected 1"; ok=0; }
  case "$err" in *"$want"*) ;; *) echo "FAIL [$what]: message lacks '$want': $err"; ok=0 ;; esac
  case "$err" in *Sanitizer*|*"runtime error"*) echo "FAIL [$what]: sanitizer report"; ok=0 ;; esac
  [ -s "$tmp/out" ] && { echo "FAIL [$what]: wrote to stdout"; ok=0; }
  if [ $ok = 1 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
done
[ "$table" = --table ] && exit 0
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]

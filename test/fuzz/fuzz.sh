#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs each for N
# seconds, seeded with the golden files of test/fixtures and generated seeds.
#
#   npm run fuzz -- [--seconds N] [--target NAME]...
#
# Targets: load_flat, load_ivf_f32, load_ivf_sq8, load_graph, load_snapshot, open_mapped
# (default: all; N defaults to 60). Corpora grow across runs in
# build/fuzz/corpus/<target>; findings are written to
# build/fuzz/artifacts/<target>/ and the script exits non-zero if any target
# found one. Needs clang with libFuzzer (Debian: apt-get install clang
# libclang-rt-14-dev).
set -uo pipefail
cd "$(dirname "$0")/../.."

seconds=60
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --seconds=*) seconds="${1#*=}"; shift ;;
    --target) targets+=("$2"); shift 2 ;;
    --target=*) targets+=("${1#*=}"); shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "fuzz: unknown argument '$1' (expected --seconds N, --target NAME)" >&2; exit 2 ;;
  esac
done
all=(load_flat load_ivf_f32 load_ivf_sq8 load_graph load_snapshot open_mapped)
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")
for t in "${targets[@]}"; do
  case " ${all[*]} " in *" $t "*) ;; *) echo "fuzz: unknown target '$t' (one of: ${all[*]})" >&2; exit 2 ;; esac
done
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
  echo "fuzz: --seconds must be a positive integer; received '$seconds'" >&2
  exit 2
fi

cxx="${SEMVEC_FUZZ_CXX:-$(command -v clang++ || command -v clang++-14 || true)}"
if [ -z "$cxx" ]; then
  echo "fuzz: clang++ not found: apt-get install clang libclang-rt-14-dev" >&2
  exit 2
fi

out=build/fuzz
echo "fuzz: building the targets with $cxx (ASan + UBSan + libFuzzer) in $out"
cmake -S . -B "$out" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSEMVEC_FUZZ=ON -DSEMVEC_SANITIZE=address,undefined >"$out.log" 2>&1 &&
  cmake --build "$out" -j "$(nproc)" --target fuzz_make_seeds $(printf 'fuzz_%s ' "${targets[@]}") >>"$out.log" 2>&1
if [ $? -ne 0 ]; then
  tail -n 40 "$out.log" >&2
  echo "fuzz: build failed (full log: $out.log)" >&2
  exit 2
fi

# Seeds: generated ones (all kinds, encodings and metrics) and the golden files.
rm -rf "$out/seeds"
"$out/fuzz_make_seeds" "$out/seeds" || exit 2
cp test/fixtures/*.svx "$out/seeds/"
seeds_for() {
  case "$1" in
    load_flat) echo "$out/seeds/flat" ;;
    load_ivf_f32) echo "$out/seeds/ivf_f32" ;;
    load_ivf_sq8) echo "$out/seeds/ivf_sq8" ;;
    load_graph) echo "$out/seeds/graph" ;;
    *) echo "$out/seeds/flat $out/seeds/ivf_f32 $out/seeds/ivf_sq8" ;;
  esac
}

status=0
summary=()
for t in "${targets[@]}"; do
  corpus="$out/corpus/$t"
  artifacts="$out/artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  before=$(ls "$artifacts" | wc -l)
  log="$out/$t.log"
  echo "fuzz: $t for ${seconds}s (log: $log)"
  # The golden files go to every target (they are few); libFuzzer stops at
  # the first finding and exits non-zero.
  # shellcheck disable=SC2046
  "$out/fuzz_$t" "$corpus" $(seeds_for "$t") "$out/seeds" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
    -dict=test/fuzz/semvec.dict -print_final_stats=1 -artifact_prefix="$artifacts/" >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)
  size=$(ls "$corpus" | wc -l)
  found=$(( $(ls "$artifacts" | wc -l) - before ))
  if [ "$rc" -ne 0 ] && [ "$found" -eq 0 ]; then found=1; fi
  if [ "$found" -gt 0 ]; then
    status=1
    grep -m1 -A12 -E "ERROR: |runtime error|semvec fuzz finding|deadly signal" "$log" >&2
  fi
  summary+=("$(printf '%-14s runs %10s  execs/s %7s  corpus %6s  crashes %s' "$t" "${runs:-?}" "${rate:-?}" "$size" "$found")")
done

echo
echo "fuzz: ${seconds}s per target"
printf '%s\n' "${summary[@]}"
[ $status -eq 0 ] || echo "fuzz: findings in $out/artifacts/ (reproduce: $out/fuzz_<target> <file>)" >&2
exit $status

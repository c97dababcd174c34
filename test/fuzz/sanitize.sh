#!/usr/bin/env bash
# The C++ core under the sanitizers, then the fuzz targets:
#   1. the core tests (test/native) built with ASan + UBSan, and run;
#   2. the core tests built with TSan, and run;
#   3. every fuzz target for N seconds (test/fuzz/fuzz.sh).
#
#   npm run test:sanitize -- [--seconds N]     (N: per fuzz target, default 60)
#
# Exits non-zero on any finding. Not part of npm test. Uses clang++ when
# present (needed for the fuzz targets), else g++ for steps 1 and 2.
set -uo pipefail
cd "$(dirname "$0")/../.."

seconds=60
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --seconds=*) seconds="${1#*=}"; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "test:sanitize: unknown argument '$1' (expected --seconds N)" >&2; exit 2 ;;
  esac
done

cxx="${SEMVEC_SANITIZE_CXX:-$(command -v clang++ || command -v clang++-14 || command -v g++)}"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"

results=()
status=0

# Builds build/<name> with -fsanitize=<list> and runs the core tests.
core_tests() {
  local name="$1" list="$2" out="build/$1"
  echo "test:sanitize: core tests with -fsanitize=$list ($cxx, in $out)"
  if ! { cmake -S . -B "$out" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
           -DSEMVEC_SANITIZE="$list" >"$out.log" 2>&1 &&
         cmake --build "$out" -j "$(nproc)" --target semvec_core_tests >>"$out.log" 2>&1; }; then
    tail -n 40 "$out.log" >&2
    results+=("$(printf '%-16s build failed (%s)' "$name" "$out.log")")
    status=1
    return
  fi
  local log="$out/core_tests.log"
  "$out/semvec_core_tests" >"$log" 2>&1
  local rc=$?
  local line
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n1)
  if [ $rc -ne 0 ] || grep -qE 'ERROR: (Address|Leak|Thread)Sanitizer|WARNING: ThreadSanitizer|runtime error' "$log"; then
    status=1
    grep -m1 -B2 -A25 -E 'ERROR: |WARNING: ThreadSanitizer|runtime error|^FAIL ' "$log" >&2
    results+=("$(printf '%-16s FAILED: %s (exit %s; log %s)' "$name" "${line:-no summary}" "$rc" "$log")")
  else
    results+=("$(printf '%-16s %s, no findings' "$name" "$line")")
  fi
}

core_tests asan-ubsan address,undefined
core_tests tsan thread

fuzz_rc=0
if [[ "$cxx" == *clang* ]]; then
  bash test/fuzz/fuzz.sh --seconds "$seconds"
  fuzz_rc=$?
  [ $fuzz_rc -eq 0 ] || status=1
  results+=("$(printf '%-16s %s' fuzz "$([ $fuzz_rc -eq 0 ] && echo "${seconds}s per target, no findings" || echo "FAILED (exit $fuzz_rc)")")")
else
  status=1
  results+=("$(printf '%-16s skipped: needs clang++ with libFuzzer (apt-get install clang libclang-rt-14-dev)' fuzz)")
fi

echo
echo "test:sanitize summary"
printf '  %s\n' "${results[@]}"
exit $status

#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: install what is
# missing, build with -Werror, run every meson test, then the same suite
# again under ASan+UBSan. Ends with one plain line taken from meson's log:
#   tests: N passed, N failed, N skipped
# Then the unit and integration suites once more under ThreadSanitizer, and
# every libFuzzer target (tools/fuzz.sh, clang) runs 20 s from its seed
# corpus as a regression.
# Options: --no-sanitize (skip the ASan+UBSan pass), --only-sanitize, --no-tsan,
# --no-fuzz.
set -euo pipefail
cd "$(dirname "$0")/.."

run_plain=1
run_sanitized=1
run_fuzz=1
run_tsan=1
for arg in "$@"; do
  case "$arg" in
    --no-sanitize) run_sanitized=0 ;;
    --only-sanitize) run_plain=0 ;;
    --no-fuzz) run_fuzz=0 ;;
    --no-tsan) run_tsan=0 ;;
    *) echo "run-tests.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

bash deploy/install-deps.sh --tests

logs=()
status=0
build_and_test() {
  local dir=$1; shift
  if [[ ! -f "$dir/build.ninja" ]]; then
    meson setup "$dir" -Dwerror=true "$@" >/dev/null
  else
    meson configure "$dir" -Dwerror=true "$@" >/dev/null
  fi
  ninja -C "$dir"
  # meson exits non-zero when any test fails; keep going to report it all.
  meson test -C "$dir" --print-errorlogs --num-processes 1 || status=1
  logs+=("$dir/meson-logs/testlog.json")
}

# The sanitizer builds compile at -O1 with line tables only (-g1): the
# sanitizers' own docs suggest -O1, their reports need file:line and function
# names and nothing more, and it halves their compile time (Boost.Beast's
# heaviest file: 70 s at -O2 -g, 33 s at -O1 -g1, under ASan). meson uses
# ccache when it is installed (install-deps.sh installs it), so a rerun on
# the same machine recompiles only what changed.
sanitizer_build=(-Doptimization=1 -Dcpp_args=-g1)

if ((run_plain)); then
  build_and_test build -Ddpdk=enabled
fi
if ((run_sanitized)); then
  # Integration tests spawn the sanitized binary too; leaks in the Python
  # side are not ours, so only our processes carry the options.
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  # A leak inside DPDK's af_xdp PMD, not ours: see the file.
  export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
  # half_open_auto's drop shares are the rate controller's quality at the
  # real binary's pace (checked in the plain pass); at ASan's pace they moved
  # from run to run (1.20% converged and 3.00% after the halving in a CI run
  # whose plain pass had 0.00% and 0.00%; 0.30% and 0.00% in the next ASan
  # run), so this pass runs it for memory and for every other check.
  export SWARMDIAL_TEST_SANITIZER=asan
  build_and_test build-asan -Dsanitize_address_undefined=true -Dbench=false -Ddpdk=enabled \
    "${sanitizer_build[@]}"
  unset SWARMDIAL_TEST_SANITIZER
fi

if ((run_tsan)); then
  # ThreadSanitizer sees races only in code it instrumented: DPDK's libraries
  # are not, and their lock-free rings would look like races in ours, so
  # this build has no DPDK backend (the DPDK tests skip). Three tests stay
  # out: `ceiling` (150 s of the same shard code dial_outcomes runs);
  # `half_open_auto` (80 s of one shard's rate controller, which TSan's pace
  # makes read a slower dialer, not a race: it once kept dialing at 0.45 of
  # the halved table where the test asks 0.5); and `source_pool`, whose
  # 24,000-socket strictness check counts SYN_SENT sockets in /proc and, at
  # TSan's pace, has seen a closing socket and its successor in two samples
  # in a row. All three run in the passes above.
  export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1"
  if [[ ! -f build-tsan/build.ninja ]]; then
    meson setup build-tsan -Dwerror=true -Dsanitize_thread=true -Dbench=false -Ddpdk=disabled \
      "${sanitizer_build[@]}" >/dev/null
  fi
  ninja -C build-tsan
  mapfile -t tsan_tests < <(meson test -C build-tsan --list --suite unit --suite integration 2>/dev/null |
    sed -n 's/^swarmdial:[a-z]* \/ //p' | grep -vx -e ceiling -e source_pool -e half_open_auto)
  # Tests that also check a rate keep only its bound that TSan's pace cannot break.
  SWARMDIAL_TEST_SANITIZER_PACE=1 meson test -C build-tsan --print-errorlogs --num-processes 1 \
    "${tsan_tests[@]}" || status=1
  logs+=(build-tsan/meson-logs/testlog.json)
  unset TSAN_OPTIONS
fi

if ((run_fuzz)); then
  bash tools/fuzz.sh --regress 20 || status=1
  logs+=(build-fuzz/fuzz-testlog.json)
fi

python3 - "${logs[@]}" <<'PY'
import json, sys
counts = {"OK": 0, "FAIL": 0, "SKIP": 0, "TIMEOUT": 0, "ERROR": 0, "EXPECTEDFAIL": 0, "UNEXPECTEDPASS": 0}
for path in sys.argv[1:]:
    with open(path) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)["result"]
                counts[r] = counts.get(r, 0) + 1
passed = counts["OK"] + counts["EXPECTEDFAIL"]
failed = counts["FAIL"] + counts["TIMEOUT"] + counts["ERROR"] + counts["UNEXPECTEDPASS"]
print(f"tests: {passed} passed, {failed} failed, {counts['SKIP']} skipped")
PY
exit $status

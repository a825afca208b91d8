#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: install what is
# missing, build with -Werror, run every meson test, then the same suite
# again under ASan+UBSan. Ends with one plain line taken from meson's log:
#   tests: N passed, N failed, N skipped
# Then every libFuzzer target (tools/fuzz.sh, clang) runs 20 s from its seed
# corpus as a regression.
# Options: --no-sanitize (skip the ASan+UBSan pass), --only-sanitize, --no-fuzz.
set -euo pipefail
cd "$(dirname "$0")/.."

run_plain=1
run_sanitized=1
run_fuzz=1
for arg in "$@"; do
  case "$arg" in
    --no-sanitize) run_sanitized=0 ;;
    --only-sanitize) run_plain=0 ;;
    --no-fuzz) run_fuzz=0 ;;
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
  build_and_test build-asan -Dsanitize_address_undefined=true -Dbench=false -Ddpdk=enabled
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

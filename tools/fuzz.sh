#!/usr/bin/env bash
# libFuzzer targets for swarmdial's parsers (tests/fuzz/), built with clang
# into build-fuzz/ with ASan and UBSan.
#   tools/fuzz.sh --list              the targets, one a line
#   tools/fuzz.sh TARGET SECONDS [FLAG...]
#                                     build and run one (libFuzzer's output on stderr;
#                                     FLAGs go to libFuzzer, e.g. -max_len=1024);
#                                     new inputs go to build-fuzz/corpus/TARGET, crashes
#                                     to build-fuzz/crashes/TARGET/
#   tools/fuzz.sh --regress SECONDS   every target for SECONDS each, one line per target,
#                                     and build-fuzz/fuzz-testlog.json for the test summary
# Seed corpora: tests/fuzz/corpus/ (tests/fuzz/make_corpus.py writes them).
set -euo pipefail
cd "$(dirname "$0")/.."

targets() { awk '/^fuzz_targets = \[/,/\]/' tests/fuzz/meson.build | grep -o "'[a-z_]*'" | tr -d "'"; }

build() {
  if [[ ! -f build-fuzz/build.ninja ]]; then
    CC=clang-14 CXX=clang++-14 meson setup build-fuzz -Dfuzz=true -Ddpdk=disabled -Dbench=false \
      -Dwerror=true >/dev/null
  fi
  ninja -C build-fuzz >/dev/null
}

run_one() {  # TARGET SECONDS [FLAG...] -> libFuzzer's exit code
  local t=$1 secs=$2 dict=()
  shift 2
  mkdir -p "build-fuzz/corpus/$t" "build-fuzz/crashes/$t"
  case $t in
    bencode|metainfo|http_announce|resume) dict=(-dict=tests/fuzz/bencode.dict) ;;
    peer_session|leech_session) dict=(-dict=tests/fuzz/peer_session.dict) ;;
    config) dict=(-dict=tests/fuzz/config.dict) ;;
  esac
  "build-fuzz/tests/fuzz/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 -timeout=10 \
    -rss_limit_mb=2048 -artifact_prefix="build-fuzz/crashes/$t/" "${dict[@]}" "$@" \
    "build-fuzz/corpus/$t" "tests/fuzz/corpus/$t"
}

case "${1:-}" in
  --list) targets ;;
  --regress)
    secs=${2:-20}
    build
    : >build-fuzz/fuzz-testlog.json
    status=0
    for t in $(targets); do
      if out=$(run_one "$t" "$secs" 2>&1); then result=OK; else result=FAIL; status=1; fi
      execs=$(grep -o 'number_of_executed_units: [0-9]*' <<<"$out" | grep -o '[0-9]*$' || echo 0)
      echo "fuzz $t: $result, $execs executions in ${secs} s"
      [[ $result == OK ]] || grep -E 'ERROR|SUMMARY|Test unit written' <<<"$out" | head -5
      echo "{\"name\": \"fuzz_$t\", \"result\": \"$result\"}" >>build-fuzz/fuzz-testlog.json
    done
    exit $status ;;
  ""|-h|--help) sed -n '2,12p' "$0"; exit 0 ;;
  *)
    t=$1
    targets | grep -qx "$t" || { echo "fuzz.sh: unknown target '$t' (see --list)" >&2; exit 2; }
    [[ ${2:-} =~ ^[0-9]+$ ]] || { echo "fuzz.sh: SECONDS must be a whole number" >&2; exit 2; }
    build
    run_one "$@" ;;
esac

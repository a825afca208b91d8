#!/usr/bin/env bash
# First run on a fresh Debian 12 machine: install what is missing, build,
# then dial a small local swarm that this script sets up on loopback:
# live peers, closed ports (refused) and black holes (timeouts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh --build
[[ -f build/build.ninja ]] || meson setup build >/dev/null
ninja -C build >/dev/null

tmp=$(mktemp -d /tmp/sd_quickstart.XXXXXX)
live_ports=(17881 17882)
hole_port=17883
closed_port=17884
mkfifo "$tmp/ctl"
# The acceptor runs until its stdin (our fd 3) closes.
./build/tools/bench/bench_acceptor "${live_ports[@]}" "b$hole_port" < "$tmp/ctl" > "$tmp/acceptor.out" &
acceptor=$!
exec 3> "$tmp/ctl"
trap 'exec 3>&-; wait $acceptor 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 50); do grep -q ready "$tmp/acceptor.out" 2>/dev/null && break; sleep 0.1; done

# 2,000 live targets, 500 refusals and 500 black holes on 127.50.0.0/16.
python3 - "$tmp/targets.txt" "${live_ports[@]}" "$hole_port" "$closed_port" <<'PY'
import sys
path, live1, live2, hole, closed = sys.argv[1], *map(int, sys.argv[2:])
with open(path, "w") as f:
    for i in range(3000):
        host = f"127.50.{i // 250}.{i % 250 + 1}"
        port = (live1, live2)[i % 2] if i < 2000 else (closed if i < 2500 else hole)
        f.write(f"{host}:{port}\n")
PY
echo "dialing 3,000 local targets (2,000 live, 500 closed, 500 black holes)..."
./build/tools/swarmdial/swarmdial dial --targets "$tmp/targets.txt" --half-open 128 --rate 5000 \
  --timeout 1000 --output "$tmp/results.csv" --summary "$tmp/summary.json" --status
echo
echo "first result rows:"
head -5 "$tmp/results.csv"
echo
echo "summary:"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(json.dumps({k: s[k] for k in ("outcomes","rates","connect_rtt_us","shards")}, indent=1))' "$tmp/summary.json"

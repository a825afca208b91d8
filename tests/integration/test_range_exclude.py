"""--range expansion with --exclude and --max-targets, targets from stdin,
IPv6 targets on both kernel backends, and an INI --config file."""
import ipaddress
import os
import socket
import subprocess
import tempfile

from sdtest import SWARMDIAL, Check, Listener, read_json, read_rows, run_dial

check = Check("range, exclude, stdin, ipv6, config")
tmp = tempfile.mkdtemp(prefix="sd_range_")
wild = Listener("0.0.0.0")  # every 127.x address is a live peer on this port
exclude = os.path.join(tmp, "exclude.txt")
with open(exclude, "w") as f:
    f.write("# lower half is off limits\n127.0.9.0/25\n")
try:
    out = os.path.join(tmp, "r.csv")
    r = run_dial(["--range", f"127.0.9.0/24:{wild.port}", "--exclude", exclude, "--output", out,
                  "--rate", 0, "--quiet"])
    rows = read_rows(out)
    check.that(r.returncode == 0, f"exit {r.returncode} {r.stderr}")
    check.that(len(rows) == 128, f"{len(rows)} rows, expected 128 after --exclude")
    hosts = [ipaddress.ip_address(x["target"]) for x in rows]
    check.that(all(h in ipaddress.ip_network("127.0.9.128/25") for h in hosts), "excluded hosts dialed")
    check.that(len(set(hosts)) == 128, "each host once")
    check.that(all(x["outcome"] == "established" for x in rows), "all live")
    order = [int(str(h).rsplit(".", 1)[1]) for h in hosts]
    ascending = sum(1 for a, b in zip(order, order[1:]) if b == a + 1)
    check.that(ascending < 20, f"order looks sequential ({ascending} steps of +1)")

    r = run_dial(["--range", f"127.0.9.0/24:{wild.port}", "--max-targets", 50, "--output", out,
                  "--quiet", "--seed", 5])
    check.that(len(read_rows(out)) == 50, "--max-targets 50")

    # stdin targets, including an IPv6 one, on both backends
    v6 = Listener("::1")
    body = f"127.0.10.1:{wild.port}\n[::1]:{v6.port}\n127.0.10.2:{wild.port}\n"
    for backend in ("uring", "epoll"):
        p = subprocess.run([SWARMDIAL, "dial", "--targets", "-", "--backend", backend,
                            "--format", "jsonl", "--quiet"], input=body, capture_output=True,
                           text=True, timeout=30)
        import json
        rows = [json.loads(l) for l in p.stdout.splitlines()]
        check.that(p.returncode == 0 and len(rows) == 3, f"{backend}: stdin rows {p.stdout!r} {p.stderr!r}")
        check.that(all(x["outcome"] == "established" for x in rows), f"{backend}: stdin outcomes")
        check.that(any(x["target"] == "::1" for x in rows), f"{backend}: IPv6 row")
    out6 = os.path.join(tmp, "r6.csv")
    r = run_dial(["--range", f"[::1/128]:{v6.port}", "--output", out6, "--quiet"])
    rows = read_rows(out6)
    check.that(len(rows) == 1 and rows[0]["outcome"] == "established", f"IPv6 --range {rows}")
    v6.close()

    # every flag works as a key in --config
    ini = os.path.join(tmp, "dial.ini")
    out_cfg = os.path.join(tmp, "cfg.jsonl")
    summ = os.path.join(tmp, "cfg.json")
    with open(ini, "w") as f:
        f.write(f"range = 127.0.11.0/28:{wild.port}\nhalf-open = 3\nshards = 1\nformat = jsonl\n"
                f"output = {out_cfg}\nsummary = {summ}\nquiet = true\n")
    r = run_dial(["--config", ini])
    check.that(r.returncode == 0, f"config run {r.stderr}")
    check.that(len(read_rows(out_cfg)) == 16, "config: 16 rows as JSONL")
    s = read_json(summ)
    check.that(s["shards"][0]["half_open_budget"] == 3, "config: half-open 3")
finally:
    wild.close()
check.done()

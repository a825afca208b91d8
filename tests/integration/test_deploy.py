"""deploy/: what can be checked on a machine with kubectl but no cluster,
and with Debian's prometheus but no fleet.

- `kubectl kustomize` renders the base and the dpdk overlay; the rendered
  objects have what the fleet needs (an Indexed Job with completions =
  parallelism = the partition count, JOB_COMPLETION_INDEX and
  --partition auto, results on a shared volume; a DaemonSet with host
  networking, NET_ADMIN and a liveness probe on the /metrics port; the
  overlay's hugepages and dpdk backend; headless Services);
- the merge Job names `swarmdial merge` over every part;
- the Dockerfile is multi-stage on Debian 12, runs as a non-root user, and
  its runtime stage installs a package for every library the binary links;
- `promtool check config`, `check rules`, `test rules` (the alerts' unit
  tests), and `check metrics` on a real scrape of `dial --metrics`;
- the Grafana dashboard parses and every query names a metric that a real
  /metrics page or a recording rule provides."""
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request

import yaml

from sdtest import SWARMDIAL, Check, Listener, free_tcp_port

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEPLOY = os.path.join(ROOT, "deploy")
check = Check("deploy")


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kw)


def render(path):
    r = run(["kubectl", "kustomize", path])
    check.that(r.returncode == 0, f"kubectl kustomize {path}: {r.stderr}")
    return {(d["kind"], d["metadata"]["name"]): d for d in yaml.safe_load_all(r.stdout) if d}


def container(obj):
    return obj["spec"]["template"]["spec"]["containers"][0]


# Kubernetes
if shutil.which("kubectl"):
    base = render(os.path.join(DEPLOY, "kubernetes", "base"))
    job = base[("Job", "swarmdial-dial")]
    cm = next(v for (k, n), v in base.items() if k == "ConfigMap" and n.startswith("swarmdial-dial"))
    spec, c = job["spec"], container(job)
    parts = int(cm["data"]["SWARMDIAL_PARTITIONS"])
    check.that(spec["completionMode"] == "Indexed" and spec["completions"] == spec["parallelism"] == parts,
               f"Indexed Job of {parts}: {spec['completionMode']} {spec['completions']}/{spec['parallelism']}")
    env = {e["name"]: e for e in c.get("env", [])}
    check.that("job-completion-index" in json.dumps(env.get("JOB_COMPLETION_INDEX")),
               "JOB_COMPLETION_INDEX comes from the Job's completion index")
    check.that(c["args"][0] == "dial" and "--partition=auto" in c["args"] and
               any(a.startswith("--seed=") for a in c["args"]), f"dial args: {c['args']}")
    check.that(any(m["mountPath"] == "/results" for m in c["volumeMounts"]) and
               any("/results/part-$(JOB_COMPLETION_INDEX).json" in a for a in c["args"]),
               "each partition writes its summary to the results volume")
    check.that(c["envFrom"][0]["configMapRef"]["name"] == cm["metadata"]["name"],
               "the Job reads the generated ConfigMap")
    ds = base[("DaemonSet", "swarmdial-seed")]
    pod, c = ds["spec"]["template"]["spec"], container(ds)
    metrics_port = next(int(a.rsplit(":", 1)[1]) for a in c["args"] if a.startswith("--metrics="))
    check.that(pod["hostNetwork"] is True and "NET_ADMIN" in c["securityContext"]["capabilities"]["add"],
               "the seeding DaemonSet: host network, NET_ADMIN")
    probe = c["livenessProbe"]["httpGet"]
    check.that(probe["path"] == "/metrics" and probe["port"] == metrics_port,
               f"liveness probe on /metrics:{metrics_port}: {probe}")
    check.that(c["securityContext"].get("runAsNonRoot") is True, "uring seeding runs as non-root")
    for name in ("swarmdial-dial", "swarmdial-seed"):
        svc = base[("Service", name)]
        check.that(svc["spec"]["clusterIP"] == "None", f"{name}: headless, for DNS discovery")
    check.that(all(o["metadata"].get("namespace", "swarmdial") == "swarmdial" for o in base.values()
                   if o["kind"] != "Namespace"), "everything in the swarmdial namespace")

    dpdk = render(os.path.join(DEPLOY, "kubernetes", "overlays", "dpdk"))
    c = container(dpdk[("DaemonSet", "swarmdial-seed")])
    res = c["resources"]
    check.that(res["requests"].get("hugepages-2Mi") and res["limits"].get("hugepages-2Mi") ==
               res["requests"]["hugepages-2Mi"], f"dpdk overlay requests hugepages: {res}")
    check.that("--backend=dpdk" in c["args"] and any(a.startswith("--dpdk=") for a in c["args"]),
               f"dpdk overlay args: {c['args']}")
    vols = dpdk[("DaemonSet", "swarmdial-seed")]["spec"]["template"]["spec"]["volumes"]
    check.that(any(v.get("emptyDir", {}).get("medium", "").startswith("HugePages") for v in vols),
               "dpdk overlay mounts hugepages")

    with open(os.path.join(DEPLOY, "kubernetes", "merge-job.yaml")) as f:
        merge = yaml.safe_load(f)
    script = " ".join(container(merge)["args"])
    check.that("swarmdial merge" in script and "part-*.json" in script and "--rows-output" in script,
               f"the merge Job: {script}")
else:
    print("kubectl not installed: the Kubernetes checks are skipped")

# Dockerfile
with open(os.path.join(DEPLOY, "docker", "Dockerfile")) as f:
    docker = f.read()
stages = re.findall(r"^FROM (\S+)", docker, re.M)
check.that(len(stages) == 2 and all(s.startswith("debian:12") for s in stages), f"stages: {stages}")
check.that("COPY --from=build" in docker and re.search(r"^USER 10001$", docker, re.M),
           "the runtime stage copies the build's binary and runs as uid 10001")
runtime = docker[docker.rindex("FROM "):]
needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", run(["readelf", "-d", SWARMDIAL]).stdout)
base_image = {"libc.so.6", "libm.so.6", "libstdc++.so.6", "libgcc_s.so.1", "ld-linux-x86-64.so.2"}
for lib in needed:
    # The sanitizer runtimes belong to the test build, not to the image's.
    if lib in base_image or lib.startswith(("libasan", "libubsan", "libtsan", "liblsan")):
        continue
    r = run(["dpkg", "-S", f"*/{lib}"])
    pkg = r.stdout.split(":", 1)[0] if r.returncode == 0 else None
    check.that(pkg and re.search(rf"\b{re.escape(pkg)}\b", runtime),
               f"{lib} (package {pkg}) is installed in the runtime stage")

# Prometheus
if shutil.which("promtool"):
    prom = os.path.join(DEPLOY, "prometheus")
    for args in (["check", "config", "prometheus.yml"], ["check", "rules", "rules.yml"],
                 ["test", "rules", "rules_test.yml"]):
        r = run(["promtool", *args], cwd=prom)
        check.that(r.returncode == 0, f"promtool {' '.join(args)}: {r.stdout[-500:]} {r.stderr[-500:]}")
    live = Listener("127.0.0.1")
    port = free_tcp_port()
    p = subprocess.Popen([SWARMDIAL, "dial", "--range", f"127.0.0.1/32:{live.port}", "--hold", "--duration", "5",
                          "--metrics", f"127.0.0.1:{port}", "--output", "/dev/null", "--quiet"])
    page = ""
    for _ in range(50):
        try:
            page = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
            break
        except OSError:
            time.sleep(0.1)
    p.terminate()
    p.wait(timeout=20)
    live.close()
    r = run(["promtool", "check", "metrics"], input=page)
    check.that(page and r.returncode == 0, f"promtool check metrics: {r.stdout} {r.stderr}")
    exported = set(re.findall(r"^# TYPE (\S+) (\S+)", page, re.M))
    names = {n for n, _ in exported}
    for n, t in exported:
        if t == "histogram":
            names |= {n + "_bucket", n + "_sum", n + "_count"}
    with open(os.path.join(prom, "rules.yml")) as f:
        rules = yaml.safe_load(f)
    names |= {r["record"] for g in rules["groups"] for r in g["rules"] if "record" in r}
    # seed-only families (peers, upload, trackers) are on seed's page: the
    # rendering code names them all.
    with open(os.path.join(ROOT, "engine", "metrics_text.cpp")) as f:
        names |= set(re.findall(r'"(swarmdial_[a-z_]+?)(?:\{|"| )', f.read()))
else:
    print("promtool not installed: the Prometheus checks are skipped")
    names = None

# Grafana
with open(os.path.join(DEPLOY, "grafana", "swarmdial-dashboard.json")) as f:
    dash = json.load(f)
exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
check.that(len(exprs) >= 8, f"{len(exprs)} queries in the dashboard")
if names is not None:
    for e in exprs:
        used = set(re.findall(r"swarmdial[_:][a-z_:0-9]+", e))
        check.that(used and used <= names, f"{e}: {used - names} not exported")
check.done()

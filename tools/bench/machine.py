"""What machine a benchmark figure came from: the kernel, the cores, and a
measured syscall cost (getppid round trip, from `perf bench syscall basic`,
or a ctypes loop when perf is missing). Ratios between backends depend on
it: the same uring/epoll comparison gave 1.9x where syscalls are dear and
1.0x where they are cheap."""
import ctypes
import os
import platform
import re
import subprocess
import time


def syscall_ns():
    try:
        out = subprocess.run(["perf", "bench", "syscall", "basic", "-l", "1000000"],
                             capture_output=True, text=True, timeout=30).stdout
        m = re.search(r"([\d.]+) usecs/op", out)
        if m:
            return float(m.group(1)) * 1000, "perf bench syscall basic"
    except (OSError, subprocess.TimeoutExpired):
        pass
    libc = ctypes.CDLL(None, use_errno=True)
    n = 200_000
    t0 = time.perf_counter_ns()
    for _ in range(n):
        libc.syscall(110)  # getppid on x86_64
    return (time.perf_counter_ns() - t0) / n, "ctypes loop (includes Python overhead)"


def describe():
    ns, how = syscall_ns()
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"machine: kernel {platform.release()}, {os.cpu_count()} cores ({cpu}), "
            f"syscall {ns:.0f} ns ({how})")


if __name__ == "__main__":
    print(describe())

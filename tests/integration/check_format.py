"""Every C and C++ source is formatted with the committed .clang-format."""
import pathlib
import subprocess
import sys

clang_format, root = sys.argv[1], pathlib.Path(sys.argv[2])
files = [str(p) for d in ("engine", "uring", "dpdk_glue", "tools", "tests")
         for p in sorted((root / d).rglob("*"))
         if p.suffix in (".cpp", ".hpp", ".c", ".h") and "node_modules" not in p.parts]  # npm's, not ours
r = subprocess.run([clang_format, "--dry-run", "--Werror", *files], capture_output=True, text=True)
if r.returncode != 0:
    print(r.stderr[:4000])
    print(f"clang-format: {len(files)} files checked, some need formatting (clang-format -i)")
    sys.exit(1)
print(f"clang-format: {len(files)} files clean")

"""Benchmark: import time and peak memory of `rdds import` for demo registries (a script).

    PYTHONPATH=. python bench/bench_import.py 100000 1000000 [--dir DIR]

For each size it writes the demo deposits (one FULL and one DIFF per TLD), then imports the
FULLs into a new replica and the DIFFs on top, each step in a fresh child process so that
its peak RSS (wait4 ru_maxrss) is its own. Flat memory means the 1M peak is close to 100k's.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_CHILD_EXPORT = """
import sys
from pathlib import Path
from escrow import export as rde_export
rde_export.write_deposits(Path(sys.argv[1]), int(sys.argv[2]), 1)
"""
_CHILD_IMPORT = """
import sys
from pathlib import Path
from escrow import importer
importer.import_deposits(Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]])
"""


def _run(code: str, *args: str) -> tuple[float, float]:
    """Run a child; (seconds, peak RSS in MiB)."""
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-c", code, *args], env=os.environ.copy())
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.monotonic() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"child failed: {code.strip().splitlines()[-1]}")
    return elapsed, usage.ru_maxrss / 1024  # Linux: KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sizes", type=int, nargs="*", default=[100_000])
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    base = args.dir or Path(tempfile.mkdtemp(prefix="rdds-bench-"))
    rows = []
    for n in args.sizes:
        work = base / f"n{n}"
        work.mkdir(parents=True, exist_ok=True)
        export_s, _ = _run(_CHILD_EXPORT, str(work / "deposits"), str(n))
        deposits = sorted((work / "deposits").iterdir())
        fulls = [str(p) for p in deposits if "_full_" in p.name]
        diffs = [str(p) for p in deposits if "_diff_" in p.name]
        size_mb = sum(os.path.getsize(p) for p in fulls) / 2**20
        replica = work / "replica.db"
        replica.unlink(missing_ok=True)
        full_s, full_mb = _run(_CHILD_IMPORT, str(replica), *fulls)
        diff_s, diff_mb = _run(_CHILD_IMPORT, str(replica), *diffs)
        db_mb = replica.stat().st_size / 2**20
        rows.append((n, size_mb, export_s, full_s, full_mb, diff_s, diff_mb, db_mb))
        for p in deposits:
            p.unlink()
        replica.unlink()
    print(
        f"{'domains':>9} {'FULLs MiB':>9} {'export s':>8} {'import s':>8} {'peak MiB':>8} "
        f"{'DIFFs s':>7} {'peak MiB':>8} {'replica MiB':>11}"
    )
    for n, size, ex, fs, fm, ds, dm, db in rows:
        print(
            f"{n:>9,} {size:>9.0f} {ex:>8.1f} {fs:>8.1f} {fm:>8.0f} {ds:>7.1f} {dm:>8.0f} "
            f"{db:>11.0f}"
        )


if __name__ == "__main__":
    main()

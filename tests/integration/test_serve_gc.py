"""`rdds serve` moves what it made while starting out of the garbage collector's way
(`gc.freeze`), so that a full collection walks only what serving makes: measured on the 1M
bench replica, full collections went from 36-69 ms (every request stopped meanwhile, the
RDAP p99 with them) to 1-2 ms. Run in a child process: freezing is for the whole process.

Mutation that makes this test fail: dropping the `gc.freeze()` from `rdds.service.serve`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.integration.test_stored_answers import LIFTED

SCRIPT = """
import asyncio, dataclasses, gc, os, signal, sys
from pathlib import Path
from rdds import config, service

settings = dataclasses.replace(config.parse(sys.argv[2], "test"), replica=Path(sys.argv[1]))

async def main():
    serving = asyncio.ensure_future(service.serve(settings))
    for _ in range(600):
        await asyncio.sleep(0.05)
        if gc.get_freeze_count() or serving.done():
            break
    print("frozen", gc.get_freeze_count(), flush=True)
    os.kill(os.getpid(), signal.SIGTERM)
    await serving

asyncio.run(main())
"""


def test_serve_freezes_what_it_made_while_starting(demo_replica: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(demo_replica), LIFTED],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=root,
    )
    assert out.returncode == 0, out.stderr
    frozen = [line for line in out.stdout.splitlines() if line.startswith("frozen ")]
    # Tens of thousands of objects: the modules, the application, the policy.
    assert frozen and int(frozen[0].split()[1]) > 10_000, out.stdout

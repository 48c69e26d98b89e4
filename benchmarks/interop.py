"""Both interface benchmarks in one run: CDS Hooks latency and HL7 v2 throughput.

Run: .venv/bin/python benchmarks/interop.py [--quick]

Each part measures its figures beside its own baseline (a trivial endpoint, a
bare parse) on the same machine in the same process run, and records its
section of BENCHMARKS.md: see interop_cds.py and interop_hl7.py.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    quick = "--quick" in sys.argv[1:]
    parts = [
        [sys.executable, str(HERE / "interop_cds.py")],
        [sys.executable, str(HERE / "interop_hl7.py"), *(["--messages", "500"] if quick else [])],
    ]
    for command in parts:
        print(f"\n=== {Path(command[1]).name} ===", flush=True)
        done = subprocess.run(command, check=False)
        if done.returncode != 0:
            return done.returncode
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

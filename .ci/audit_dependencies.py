"""Audit every pinned dependency in requirements.lock for known vulnerabilities (pip-audit).

Exit status: 1 if any pinned version has a known vulnerability, 2 if some could not be audited
and ``--require-audit`` is given, else 0. pip-audit asks PyPI's per-release JSON (or an OSV
server, ``--osv-url``/``CLOUDSWORD_AUDIT_OSV_URL``) about each pin; on a closed network those
answers are missing, and pip-audit would call that a pass. This script says so instead: it counts
what was really audited and prints it on the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lock", type=Path, default=ROOT / "requirements.lock")
    parser.add_argument(
        "--osv-url",
        default=os.environ.get("CLOUDSWORD_AUDIT_OSV_URL"),
        help="query this OSV server instead of PyPI (env CLOUDSWORD_AUDIT_OSV_URL)",
    )
    parser.add_argument(
        "--require-audit",
        action="store_true",
        default=os.environ.get("CLOUDSWORD_AUDIT_REQUIRED") == "1",
        help="fail when any dependency could not be audited (env CLOUDSWORD_AUDIT_REQUIRED=1)",
    )
    args = parser.parse_args()

    command = [
        sys.executable, "-m", "pip_audit", "--requirement", str(args.lock), "--no-deps",
        "--disable-pip", "--format", "json", "--progress-spinner", "off",
    ]  # fmt: skip
    if args.osv_url:
        command += ["--vulnerability-service", "osv", "--osv-url", args.osv_url]
    done = subprocess.run(command, capture_output=True, text=True)
    if not done.stdout.strip():
        print(done.stderr, file=sys.stderr)
        print(f"dependency audit failed to run (pip-audit exit {done.returncode})")
        return 2
    dependencies = json.loads(done.stdout)["dependencies"]

    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if "skip_reason" in d]
    audited = len(dependencies) - len(skipped)
    for dep in vulnerable:
        ids = ", ".join(v["id"] for v in dep["vulns"])
        fixes = sorted({f for v in dep["vulns"] for f in v.get("fix_versions", [])})
        print(f"VULNERABLE {dep['name']}=={dep['version']}: {ids} (fixed in {fixes or 'none'})")
    if skipped:
        names = ", ".join(d["name"] for d in skipped[:8]) + (" ..." if len(skipped) > 8 else "")
        print(f"not audited: {names} (first reason: {skipped[0]['skip_reason']})")
    print(
        f"dependency audit: {audited} of {len(dependencies)} pins audited, "
        f"{len(vulnerable)} vulnerable"
        + (", AUDIT INCOMPLETE: the vulnerability service was not reachable" if skipped else "")
    )
    if vulnerable:
        return 1
    return 2 if skipped and args.require_audit else 0


if __name__ == "__main__":
    sys.exit(main())

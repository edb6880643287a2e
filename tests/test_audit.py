"""The dependency audit (.ci/audit_dependencies.py) against a local OSV server.

The real advisory services are out of reach here, so a server on 127.0.0.1 answers OSV queries:
one pin has an advisory. The audit must name it and fail; with no server at all it must fail
too, never pass quietly.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

AUDIT = Path(__file__).resolve().parent.parent / ".ci" / "audit_dependencies.py"
ADVISORY = {
    "id": "GHSA-test-0000-0000",
    "summary": "planted advisory",
    "details": "planted for the test",
    "aliases": [],
    "affected": [
        {
            "package": {"name": "urllib3", "ecosystem": "PyPI"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.9.0"}]}],
        }
    ],
}


class _OsvHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        vulnerable = query["package"]["name"] == "urllib3"
        body = json.dumps({"vulns": [ADVISORY]} if vulnerable else {}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def osv_url():
    server = HTTPServer(("127.0.0.1", 0), _OsvHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v1/query"
    server.shutdown()


def _audit(lock: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(AUDIT), "--lock", str(lock), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin"},
    )


@pytest.fixture()
def lock(tmp_path: Path) -> Path:
    path = tmp_path / "requirements.lock"
    path.write_text("urllib3==2.8.0\n    # via requests\nsix==1.16.0\n")
    return path


def test_a_known_advisory_fails_the_audit(lock: Path, osv_url: str) -> None:
    done = _audit(lock, "--osv-url", osv_url)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "VULNERABLE urllib3==2.8.0: GHSA-test-0000-0000 (fixed in ['2.9.0'])" in done.stdout
    assert "2 of 2 pins audited, 1 vulnerable" in done.stdout


def test_an_unreachable_service_fails_the_audit(lock: Path) -> None:
    done = _audit(lock, "--osv-url", "http://127.0.0.1:9/v1/query")  # discard port: refused
    assert done.returncode == 2, done.stdout + done.stderr
    assert "dependency audit failed to run" in done.stdout

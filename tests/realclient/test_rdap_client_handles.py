"""The PyPI `rdap` client lower-cases every query: contacts and ccTLD registrars must still
answer (handles ignore case), with the handle as stored."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.realclient.conftest import Service, require

pytestmark = pytest.mark.realclient


@pytest.mark.parametrize(("query", "handle"), [("EXCOOP-1", "EXCOOP-1"), ("CXR1", "CXR1")])
def test_rdap_client_reads_handles(
    service: Service, tmp_path: Path, query: str, handle: str
) -> None:
    client = require("rdap", os.environ.get("RDDS_RDAP_CLIENT"))
    home = tmp_path / "rdap-home"
    home.mkdir()
    (home / "config.yaml").write_text(
        f"rdap:\n  bootstrap_url: {service.base}\n  recurse_roles: []\n"
    )
    res = subprocess.run(
        [client, "--home", str(home), "--output-format", "json", "--show-requests", query],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    assert f"/entity/{query.lower()} 200" in res.stdout  # what the client really asked
    doc = json.loads(res.stdout.split("\n# Requests")[0])
    assert doc["handle"] == handle

"""curl and an RDAP client installed outside the project drive the running service."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.realclient.conftest import Service, require

pytestmark = pytest.mark.realclient


def curl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require("curl"), "-sS", "--max-time", "10", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_curl_domain_lookup(service: Service) -> None:
    res = curl("-i", service.base + "domain/example.coop")
    head, _, body = res.stdout.partition("\n\n")  # text mode folds CR LF
    assert head.startswith("HTTP/1.1 200")
    assert "content-type: application/rdap+json" in head.lower()
    assert "access-control-allow-origin: *" in head.lower()
    assert json.loads(body)["ldhName"] == "example.coop"


def test_curl_idn_u_label_path(service: Service) -> None:
    # curl sends the UTF-8 bytes of the U-label as they are.
    res = curl(service.base + "domain/مثال.عراق")
    doc = json.loads(res.stdout)
    assert doc["ldhName"] == "xn--mgbh0fb.xn--mgbtx2b" and doc["unicodeName"] == "مثال.عراق"


def test_curl_head_and_errors(service: Service) -> None:
    head = curl("-I", service.base + "domain/example.org").stdout.lower()
    assert head.startswith("http/1.1 200") and "application/rdap+json" in head
    for path, status in (
        ("domain/nosuch.org", 404),
        ("domain/bad..name", 400),
        ("ip/192.0.2.1", 501),
    ):
        res = curl("-o", "/dev/null", "-w", "%{http_code} %{content_type}", service.base + path)
        assert res.stdout == f"{status} application/rdap+json"


def test_curl_cors_preflight_free_origin(service: Service) -> None:
    res = curl("-i", "-H", "Origin: https://someone.example", service.base + "help")
    assert "access-control-allow-origin: *" in res.stdout.lower()
    assert "access-control-allow-credentials" not in res.stdout.lower()


def test_rdap_client(service: Service, tmp_path: Path) -> None:
    client = require("rdap", os.environ.get("RDDS_RDAP_CLIENT"))
    home = tmp_path / "rdap-home"
    home.mkdir()
    # The client's bootstrap URL points straight at our server (no IANA bootstrap offline).
    (home / "config.yaml").write_text(
        f"rdap:\n  bootstrap_url: {service.base}\n  recurse_roles: []\n"
    )
    run = [client, "--home", str(home), "--output-format", "json"]
    res = subprocess.run(
        [*run, "example.org"], capture_output=True, text=True, timeout=60, check=False
    )
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["ldhName"] == "example.org"
    assert "Dara Ashdown" not in res.stdout  # the natural person's name stays withheld
    missing = subprocess.run(
        [*run, "nosuch.org"], capture_output=True, text=True, timeout=60, check=False
    )
    assert missing.returncode != 0 and "404" in missing.stderr

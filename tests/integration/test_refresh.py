"""A running `rdds serve` notices a new replica generation and stops serving what it cached,
on both front-ends, end to end: deposits from `rdds demo --format rde`, a replica from
`rdds import` of the FULLs, then a real `rdds import` of the .org DIFF under the running
server (docs/configuration.md `refresh_seconds`, docs/escrow.md "Atomicity, live servers").

Mutation that fails this: rdds/service.py not starting the replica watcher
(`watcher.start()` removed): the server keeps answering from the old generation.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.integration.processes import http_get, rdds, serve, wait_for, whois_query

N = 40


@pytest.fixture(scope="module")
def deposits(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    out = tmp_path_factory.mktemp("rde")
    done = rdds("demo", "--format", "rde", "--out", str(out), "--domains", str(N), "--seed", "5")
    assert done.returncode == 0, done.stderr
    return [Path(line) for line in done.stdout.split()]


def deleted_domain(diff: Path) -> str:
    names = re.findall(
        r"<rdeDomain:delete><rdeDomain:name>([^<]+)</rdeDomain:name>",
        diff.read_text(encoding="utf-8"),
    )
    assert names
    return names[0]


def last_update(doc: dict[str, object]) -> str:
    events = doc["events"]
    assert isinstance(events, list)
    (when,) = [e["eventDate"] for e in events if e["eventAction"] == "last update of RDAP database"]
    return str(when)


def test_new_generation_is_served_by_both_front_ends(deposits: list[Path], tmp_path: Path) -> None:
    replica = tmp_path / "replica.sqlite"
    fulls = [str(p) for p in deposits if "_full_" in p.name]
    done = rdds("import", "--replica", str(replica), *fulls)
    assert done.returncode == 0, done.stderr
    diff = next(p for p in deposits if p.name.startswith("org_") and "_diff_" in p.name)
    gone, new = deleted_domain(diff), "new-in-diff.org"
    config = tmp_path / "rdds.toml"
    config.write_text(
        "[rdap]\nrefresh_seconds = 0.2\n[whois]\nrate_per_second = 1000.0\nrate_burst = 1000\n"
    )
    args = ["--replica", str(replica), "--config", str(config)]
    args += ["--rdap-port", "0", "--whois-port", "0"]
    with serve(args, tmp_path / "serve.log") as up:
        assert up.whois_port is not None
        # GIVEN answers computed (and cached) from the FULLs' generation, asked twice.
        for _ in range(2):
            status, _, doc = http_get(up.rdap_port, f"/domain/{gone}")
            assert status == 200 and last_update(doc) == "2026-11-22T00:00:00Z"
            assert http_get(up.rdap_port, f"/domain/{new}")[0] == 404
            assert f"Domain Name: {gone}\r\n" in whois_query(up.whois_port, gone)
            assert whois_query(up.whois_port, new).lower().startswith(f'no match for "{new}".')

        # WHEN the .org DIFF is imported by the operator's command, under the running server.
        done = rdds("import", "--replica", str(replica), str(diff))
        assert done.returncode == 0 and "applied DIFF" in done.stderr, done.stderr

        # THEN both front-ends answer from the new generation.
        status, _, doc = wait_for(
            lambda: (r := http_get(up.rdap_port, f"/domain/{new}"))[0] == 200 and r,
            "RDAP serves the DIFF's new domain",
        )
        assert doc["ldhName"] == new and last_update(doc) == "2026-11-23T00:00:00Z"
        assert http_get(up.rdap_port, f"/domain/{gone}")[0] == 404
        text = wait_for(
            lambda: (t := whois_query(up.whois_port, new)).startswith("Domain Name:") and t,
            "WHOIS serves the DIFF's new domain",
        )
        assert ">>> Last update of WHOIS database: 2026-11-23T00:00:00Z <<<" in text
        assert whois_query(up.whois_port, gone).lower().startswith(f'no match for "{gone}".')
    assert "replica generation" in up.output()  # the watcher's log line

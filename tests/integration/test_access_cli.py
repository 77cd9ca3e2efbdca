"""`rdds credential` and `rdds audit` end to end through `rdds.cli.main`."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import stat
import threading
from pathlib import Path
from typing import Any

import pytest

from access import chain, credentials, disclosures
from access.credentials import CredentialStore
from access.disclosures import DisclosureLog
from rdds.cli import main

CRIME = "criminalInvestigationAndDNSAbuse"


def rdds(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def add(capsys: pytest.CaptureFixture[str], data: Path, *extra: str) -> tuple[str, str]:
    code, out, err = rdds(
        capsys,
        "credential",
        "add",
        "--data-dir",
        str(data),
        "--tier",
        "law-enforcement",
        "--org",
        "Example Police",
        "--purposes",
        f"{CRIME},legalActions",
        *extra,
    )
    assert code == 0, err
    token = out.strip().splitlines()[-1].split()[-1]
    cred_id = out.split()[1].rstrip(":")
    return cred_id, token


def test_credential_add_list_revoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    cred_id, token = add(capsys, data, "--expires", "2099-12-31")
    assert token.startswith("rdds_") and len(token) == 48
    store = data / credentials.FILE
    assert stat.S_IMODE(os.stat(store).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(data).st_mode) == 0o700
    assert token not in store.read_text()
    [cred] = CredentialStore(data).load()
    assert cred.id == cred_id
    assert CredentialStore(data).lookup(token) == cred

    code, out, _ = rdds(capsys, "credential", "list", "--data-dir", str(data))
    assert code == 0 and token not in out and cred.token_sha256 not in out
    header, row = out.splitlines()
    assert header.split() == [
        "id",
        "tier",
        "organisation",
        "purposes",
        "created",
        "expires",
        "revoked",
    ]
    assert row.startswith(cred_id) and f"{CRIME},legalActions" in row
    assert "2100-01-01T00:00:00Z" in row and row.rstrip().endswith("-")

    code, out, _ = rdds(capsys, "credential", "revoke", "--data-dir", str(data), cred_id)
    assert code == 0 and f"credential {cred_id} revoked" in out
    code, out, _ = rdds(capsys, "credential", "list", "--data-dir", str(data))
    assert not out.splitlines()[1].rstrip().endswith(" -")
    assert CredentialStore(data).load()[0].state(dt.datetime.now(dt.UTC)) == "revoked"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tier", "Law Enforcement", "--purposes", CRIME], "tier"),
        (["--tier", "law-enforcement", "--purposes", "curiosity"], "not an RDAP purpose"),
        (["--tier", "law-enforcement", "--purposes", CRIME, "--expires", "soon"], "soon"),
        (["--tier", "law-enforcement", "--purposes", CRIME, "--expires", "2001-01-01"], "past"),
    ],
)
def test_credential_add_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = rdds(
        capsys, "credential", "add", "--data-dir", str(tmp_path), "--org", "X", *args
    )
    assert code == 2 and message in err and not out
    assert not (tmp_path / credentials.FILE).exists()


def test_credential_add_checks_the_tier_against_a_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "rdds.toml"
    config.write_text('[tiers.csirt]\nrank = 5\npurposes = { dnsTransparency = ["name"] }\n')
    base = ["credential", "add", "--data-dir", str(tmp_path / "d"), "--org", "CERT"]
    code, _, err = rdds(
        capsys, *base, "--tier", "law-enforcement", "--purposes", CRIME, "--config", str(config)
    )
    assert code == 2 and "defines no tier 'law-enforcement'" in err
    code, _, err = rdds(
        capsys, *base, "--tier", "csirt", "--purposes", "dnsTransparency", "--config", str(config)
    )
    assert code == 0, err
    # Without a config the default policy is consulted, and an unknown tier only warns.
    code, _, err = rdds(capsys, *base, "--tier", "csirt", "--purposes", "dnsTransparency")
    assert code == 0 and "warning" in err and "csirt" in err


def test_revoke_unknown_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = rdds(capsys, "credential", "revoke", "--data-dir", str(tmp_path), "cred-nope")
    assert code == 2 and "no credential with id cred-nope" in err


def test_concurrent_adds_lose_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    disclosures.set_up(data)
    now = dt.datetime.now(dt.UTC)
    tokens: list[str] = []

    def worker() -> None:
        for _ in range(5):
            cred, token = credentials.issue("law-enforcement", "P", (CRIME,), now)
            CredentialStore(data).add(cred)
            tokens.append(token)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store = CredentialStore(data)
    assert len(store.load()) == 30
    assert all(store.lookup(t) is not None for t in tokens)
    assert not [p for p in data.iterdir() if p.name.endswith(".tmp")]


# --- audit ---------------------------------------------------------------------------------


def write_log(data: Path, n: int) -> None:
    disclosures.set_up(data)
    months = [dt.datetime(2026, m, 15, tzinfo=dt.UTC) for m in (1, 1, 2, 3, 3, 3)]

    async def go() -> None:
        log = DisclosureLog(data)
        for i in range(n):
            await log.append(
                chain.Disclosure(
                    time=months[i % len(months)] + dt.timedelta(minutes=i),
                    credential="cred-1",
                    organisation="Example Police",
                    tier="registry-staff" if i == 3 else "law-enforcement",
                    purpose=CRIME,
                    issuer=None,
                    object=f"domain/d{i}.org",
                    fields=("Registrant Name",),
                    body_sha256="0" * 64,
                )
            )

    asyncio.run(go())


def test_audit_verify_ok_and_files_private(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_log(tmp_path, 6)
    code, out, _ = rdds(capsys, "audit", "verify", "--data-dir", str(tmp_path))
    assert code == 0 and out.startswith("ok: 6 record(s), head ")
    for name in (disclosures.LOG, disclosures.ANCHOR):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o600


def _rewrite(path: Path, edit: str) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    if edit == "edit":
        lines[2] = lines[2].replace(b"Example Police", b"Example Polite")
    elif edit == "delete middle":
        del lines[2]
    elif edit == "delete last":
        del lines[-1]
    elif edit == "insert":
        lines.insert(2, lines[1])
    elif edit == "reorder":
        lines[2], lines[3] = lines[3], lines[2]
    path.write_bytes(b"".join(lines))


@pytest.mark.parametrize(
    ("edit", "line", "words"),
    [
        ("edit", 3, "edited"),
        ("delete middle", 3, "expected record 3, found record 4 (record 3 deleted"),
        ("delete last", 6, "anchor counts 6"),
        ("insert", 3, "expected record 3, found record 2"),
        ("reorder", 3, "expected record 3, found record 4 (record 3 deleted or moved?)"),
    ],
)
def test_audit_verify_detects_tampering(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: str, line: int, words: str
) -> None:
    write_log(tmp_path, 6)
    _rewrite(tmp_path / disclosures.LOG, edit)
    code, out, _ = rdds(capsys, "audit", "verify", "--data-dir", str(tmp_path))
    assert code == 1
    assert out.startswith(f"FAILED at line {line}:") and words in out


def test_audit_verify_deleted_anchor(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_log(tmp_path, 2)
    (tmp_path / disclosures.ANCHOR).unlink()
    code, out, _ = rdds(capsys, "audit", "verify", "--data-dir", str(tmp_path))
    assert code == 1 and "anchor" in out


def test_audit_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_log(tmp_path, 6)
    code, out, _ = rdds(capsys, "audit", "export", "--data-dir", str(tmp_path))
    assert code == 0
    assert out.encode() == (tmp_path / disclosures.LOG).read_bytes()
    code, out, _ = rdds(
        capsys, "audit", "export", "--data-dir", str(tmp_path), "--since", "2026-02-01"
    )
    records = [json.loads(x) for x in out.splitlines()]
    assert [r["seq"] for r in records] == [3, 4, 5, 6]
    code, out, _ = rdds(
        capsys, "audit", "export", "--data-dir", str(tmp_path), "--since", "2026-03-15T00:04:30Z"
    )
    assert [json.loads(x)["seq"] for x in out.splitlines()] == [6]
    code, _, err = rdds(capsys, "audit", "export", "--data-dir", str(tmp_path), "--since", "x")
    assert code == 2 and "--since" in err


def test_audit_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_log(tmp_path, 6)
    code, out, _ = rdds(capsys, "audit", "report", "--data-dir", str(tmp_path))
    assert code == 0
    rows = [line.split() for line in out.splitlines()]
    assert rows == [
        ["month", "tier", "purpose", "disclosures"],
        ["2026-01", "law-enforcement", CRIME, "2"],
        ["2026-02", "law-enforcement", CRIME, "1"],
        ["2026-03", "law-enforcement", CRIME, "2"],
        ["2026-03", "registry-staff", CRIME, "1"],
        ["total", "6"],
    ]
    assert "Example Police" not in out and "domain/" not in out


def test_audit_on_an_empty_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Never set up by rdds (or emptied): nothing vouches for it.
    code, out, _ = rdds(capsys, "audit", "verify", "--data-dir", str(tmp_path))
    assert code == 1 and out.startswith("FAILED: no readable anchor")
    code, _, err = rdds(capsys, "audit", "verify", "--data-dir", str(tmp_path / "missing"))
    assert code == 2 and "not a directory" in err


def test_a_fresh_data_directory_starts_its_chain(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    add(capsys, data)
    assert chain.parse_anchor((data / disclosures.ANCHOR).read_bytes()) == chain.Anchor(
        0, chain.GENESIS
    )
    code, out, _ = rdds(capsys, "audit", "verify", "--data-dir", str(data))
    assert code == 0 and out == f"ok: 0 record(s), head {chain.GENESIS}\n"
    code, out, _ = rdds(capsys, "audit", "head", "--data-dir", str(data))
    assert code == 0 and out == chain.GENESIS + "\n"


def _delete(data: Path, *names: str) -> None:
    for name in names:
        (data / name).unlink()


EMPTYING = {
    "log and anchor deleted": (
        lambda d: _delete(d, disclosures.LOG, disclosures.ANCHOR),
        "FAILED: the disclosure log and its anchor are missing, but credentials were issued here",
    ),
    "everything deleted": (
        lambda d: _delete(d, *(p.name for p in d.iterdir())),
        "FAILED: no readable anchor (disclosures.anchor): the log and its anchor were deleted",
    ),
    "log deleted": (
        lambda d: _delete(d, disclosures.LOG),
        "FAILED at line 1: the log ends at record 0 but the anchor counts 3",
    ),
    "log emptied": (
        lambda d: (d / disclosures.LOG).write_bytes(b""),
        "FAILED at line 1: the log ends at record 0 but the anchor counts 3",
    ),
    "anchor reset to genesis": (
        lambda d: (d / disclosures.ANCHOR).write_bytes(
            chain.anchor_bytes(chain.Anchor(0, chain.GENESIS))
        ),
        "FAILED: the anchor counts 0 of 3 records",
    ),
}


@pytest.mark.parametrize(("damage", "words"), EMPTYING.values(), ids=EMPTYING.keys())
def test_audit_verify_detects_an_emptied_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: Any, words: str
) -> None:
    add(capsys, tmp_path)
    write_log(tmp_path, 3)
    damage(tmp_path)
    for action in ("verify", "head"):
        code, out, _ = rdds(capsys, "audit", action, "--data-dir", str(tmp_path))
        assert code == 1 and out.startswith(words), out


def _rewrite_consistently(data: Path) -> None:
    """What someone who can write the directory can do: edit record 2, recompute every hash
    after it and the anchor."""
    head, out = chain.GENESIS, b""
    for record in disclosures.records(data):
        fields = {k: record[k] for k in ("credential", "tier", "purpose", "issuer", "object")}
        if record["seq"] == 2:
            fields["object"] = "domain/innocent.org"
        again = chain.make_record(
            chain.Disclosure(
                time=dt.datetime.fromisoformat(record["time"].replace("Z", "+00:00")),
                organisation=record["organisation"],
                fields=tuple(record["fields"]),
                body_sha256=record["body_sha256"],
                **fields,
            ),
            record["seq"],
            head,
        )
        head, out = again["hash"], out + chain.line(again)
    (data / disclosures.LOG).write_bytes(out)
    count = len(out.splitlines())
    (data / disclosures.ANCHOR).write_bytes(chain.anchor_bytes(chain.Anchor(count, head)))


def test_audit_head_kept_off_the_machine_catches_a_consistent_rewrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add(capsys, tmp_path)
    write_log(tmp_path, 3)
    code, out, _ = rdds(capsys, "audit", "head", "--data-dir", str(tmp_path))
    assert code == 0
    noted = out.strip()
    assert chain.is_hash(noted) and noted == disclosures.verify(tmp_path).head
    write_log(tmp_path, 2)  # the log grows after the head was noted: still fine
    code, out, _ = rdds(
        capsys, "audit", "verify", "--data-dir", str(tmp_path), "--expect-head", noted.upper()
    )
    assert code == 0 and out.startswith("ok: 5 record(s)") and "record 3" in out
    _rewrite_consistently(tmp_path)
    code, out, _ = rdds(capsys, "audit", "verify", "--data-dir", str(tmp_path))
    assert code == 0  # consistent on its own: only the noted head tells
    code, out, _ = rdds(
        capsys, "audit", "verify", "--data-dir", str(tmp_path), "--expect-head", noted
    )
    assert code == 1 and out.startswith(f"FAILED: no record has the expected head {noted}")
    # Emptied and started afresh (a new genesis anchor): the same.
    _delete(tmp_path, *(p.name for p in tmp_path.iterdir()))
    disclosures.set_up(tmp_path)
    code, out, _ = rdds(
        capsys, "audit", "verify", "--data-dir", str(tmp_path), "--expect-head", noted
    )
    assert code == 1 and "expected head" in out


@pytest.mark.parametrize("bad", ["", "abc", "g" * 64, "0" * 63])
def test_expect_head_must_be_a_hash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    disclosures.set_up(tmp_path)
    code, _, err = rdds(
        capsys, "audit", "verify", "--data-dir", str(tmp_path), "--expect-head", bad
    )
    assert code == 2 and err.count("\n") == 1 and "--expect-head" in err

"""escrow.importer on hand-written deposits: what lands in the replica, and every refusal
leaving the replica byte-for-byte as it was."""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from escrow import cli as escrow_cli
from escrow import importer
from replica import schema

DATA = Path(__file__).parent.parent / "data" / "deposits"
FULL = DATA / "example_2026-11-22_full_S1_R0.xml"
DIFF = DATA / "example_2026-11-23_diff_S1_R0.xml"


def digest(replica: Path) -> tuple[str, str]:
    """sha256 of the file bytes (no connection open) and of a logical dump."""
    if not replica.exists():
        return ("absent", "absent")
    raw = hashlib.sha256(replica.read_bytes()).hexdigest()
    conn = sqlite3.connect(f"{replica.as_uri()}?mode=ro", uri=True)
    try:
        dump = hashlib.sha256("\n".join(conn.iterdump()).encode()).hexdigest()
    finally:
        conn.close()
    assert hashlib.sha256(replica.read_bytes()).hexdigest() == raw  # reading changed nothing
    return raw, dump


@pytest.fixture
def replica(tmp_path: Path) -> Path:
    path = tmp_path / "replica.db"
    importer.import_deposits(path, [FULL])
    return path


def variant(tmp_path: Path, source: Path, name: str, edit: Callable[[str], str]) -> Path:
    text = source.read_text(encoding="utf-8")
    changed = edit(text)
    assert changed != text
    out = tmp_path / name
    out.write_text(changed, encoding="utf-8")
    return out


def refused(replica: Path, deposit: Path) -> importer.ImportFailed:
    before = digest(replica)
    with pytest.raises(importer.ImportFailed) as info:
        importer.import_deposits(replica, [deposit])
    assert digest(replica) == before, "a refused deposit changed the replica"
    return info.value


def rows(replica: Path, sql: str, *args: object) -> list[tuple]:
    conn = sqlite3.connect(replica)
    try:
        return [tuple(r) for r in conn.execute(sql, args)]
    finally:
        conn.close()


# --- what a FULL and a DIFF write ----------------------------------------------------------


def test_full_builds_a_wal_replica_with_every_object(replica: Path) -> None:
    assert rows(replica, "PRAGMA journal_mode") == [("wal",)]
    assert rows(replica, "SELECT name, kind, policy, roid_suffix, disclose_default FROM tld") == [
        ("example", "gtld", "example-policy", "EXAMPLE", 1)
    ]
    assert rows(replica, "SELECT count(*) FROM domain") == [(3,)]
    assert rows(
        replica,
        "SELECT coop_category, coop_certified, rgp, transferred FROM domain WHERE name = ?",
        "example1.example",
    ) == [("CA", 1, "renewPeriod", "2020-01-02T03:04:05Z")]
    assert rows(
        replica, "SELECT role, contact FROM domain_contact WHERE domain = 'example1.example'"
    ) == [("administrative", "sh8013"), ("billing", "jd1234"), ("technical", "sh8013")]
    # hostAttr addresses live on domain_ns; hostObj ones in host / host_addr.
    ns = rows(replica, "SELECT host, addrs FROM domain_ns WHERE domain = 'suspended.example'")
    assert [(h, json.loads(a)) for h, a in ns] == [
        ("ns1.suspended.example", ["192.0.2.53", "2001:db8::53"]),
        ("ns2.outside.test", []),
    ]
    assert rows(replica, "SELECT ip, version FROM host_addr ORDER BY ip") == [
        ("192.0.2.2", 4),
        ("192.0.2.29", 4),
        ("2001:db8:1::1", 6),
    ]
    (contact,) = rows(
        replica,
        "SELECT kind, at_risk, verified, email, disclose_yes, postal FROM contact "
        "WHERE id = 'jd1234'",
    )
    assert contact[:5] == ("natural", 1, 0, "jürgen@exämple.example", "addr name")
    assert json.loads(contact[5])[0]["city"] == "Zürich"
    assert rows(
        replica, "SELECT iana_id, whois_server, abuse_email, abuse_phone FROM registrar"
    ) == [(8, "whois.registrar-x.example", "abuse@registrar-x.example", "+1.7035555599")]
    assert rows(replica, "SELECT id FROM idn_table") == [("de",)]
    assert rows(replica, "SELECT aname, state, tld FROM nndn") == [
        ("xn--exmpel-cua.example", "blocked", "example")
    ]
    assert rows(replica, "SELECT id, type, prev_id, resend, tld FROM deposit") == [
        ("20261122001", "FULL", None, 0, "example")
    ]
    assert rows(replica, "SELECT value FROM meta WHERE key = 'generation'") == [("1",)]


def test_full_reports_dangling_hosts_but_keeps_going(tmp_path: Path) -> None:
    lines: list[str] = []
    importer.import_deposits(tmp_path / "r.db", [FULL], report=lines.append)
    dangling = [line for line in lines if "does not exist" in line]
    assert dangling == [
        f"{FULL.name}:37: domain example1.example: nameserver ns1.outside.test does not exist "
        "(kept)"
    ]


def test_diff_applies_deletes_and_changes_and_bumps_generation(replica: Path) -> None:
    lines: list[str] = []
    result = importer.import_deposits(replica, [DIFF], report=lines.append)
    assert result.applied[0].generation == 2
    assert rows(replica, "SELECT name FROM domain ORDER BY name") == [
        ("example1.example",),
        ("new.example",),
        ("xn--exmple-cua.example",),
    ]
    assert rows(
        replica, "SELECT statuses, registrant FROM domain WHERE name = ?", "example1.example"
    ) == [("clientHold", "new1")]
    assert rows(replica, "SELECT count(*) FROM nndn") == [(0,)]
    assert rows(replica, "SELECT count(*) FROM domain_ns WHERE domain = 'suspended.example'") == [
        (0,)
    ]
    # DIFF without eppParams / rddsExt:tld keeps the TLD's facts.
    assert rows(replica, "SELECT policy, disclose_default FROM tld") == [("example-policy", 1)]
    assert [r[0] for r in rows(replica, "SELECT id FROM deposit ORDER BY seq")] == [
        "20261122001",
        "20261123001",
    ]
    # Header counts are compared with the replica after applying: all agree here.
    assert not [line for line in lines if "header count" in line]


def test_header_count_difference_is_reported_not_fatal(replica: Path, tmp_path: Path) -> None:
    diff = variant(
        tmp_path,
        DIFF,
        DIFF.name,
        lambda t: t.replace(
            'rdeDomain-1.0">3</rdeHeader:count>', 'rdeDomain-1.0">4</rdeHeader:count>'
        ),
    )
    lines: list[str] = []
    importer.import_deposits(replica, [diff], report=lines.append)
    assert any("header count for rdeDomain-1.0 is 4, the replica has 3" in x for x in lines)


def test_gzip_deposit(tmp_path: Path) -> None:
    gz = tmp_path / (FULL.name + ".gz")
    gz.write_bytes(gzip.compress(FULL.read_bytes()))
    importer.import_deposits(tmp_path / "r.db", [gz])
    assert rows(tmp_path / "r.db", "SELECT count(*) FROM domain") == [(3,)]


def test_resend_with_higher_number_replaces_never_duplicates(replica: Path, tmp_path: Path) -> None:
    importer.import_deposits(replica, [DIFF])
    again = refused(replica, DIFF)
    assert "already applied with resend 0; a repeat needs a higher resend number" in again.reason
    resend = variant(
        tmp_path, DIFF, "resend.xml", lambda t: t.replace('type="DIFF"', 'type="DIFF" resend="1"')
    )
    importer.import_deposits(replica, [resend])
    assert rows(replica, "SELECT id, resend FROM deposit WHERE id = '20261123001'") == [
        ("20261123001", 1)
    ]


def test_second_full_of_the_same_tld_replaces_its_content(replica: Path, tmp_path: Path) -> None:
    smaller = variant(
        tmp_path,
        FULL,
        "full2.xml",
        lambda t: (
            t.replace('id="20261122001"', 'id="20261124001"')
            .replace("2026-11-22T00:00:00Z", "2026-11-24T00:00:00Z")
            .replace("<rdeDom:name>suspended.example", "<rdeDom:name>renamed.example")
        ),
    )
    importer.import_deposits(replica, [smaller])
    assert ("suspended.example",) not in rows(replica, "SELECT name FROM domain")
    assert ("renamed.example",) in rows(replica, "SELECT name FROM domain")
    assert rows(replica, "SELECT count(*) FROM domain") == [(3,)]


def test_full_of_another_tld_leaves_this_one_alone(replica: Path, tmp_path: Path) -> None:
    other = variant(
        tmp_path,
        FULL,
        "other_full.xml",
        lambda t: (
            t.replace(".example</rdeDom:name>", ".other</rdeDom:name>")
            .replace("<rdeHeader:tld>example", "<rdeHeader:tld>other")
            .replace("xn--exmpel-cua.example", "xn--exmpel-cua.other")
            .replace("-EXAMPLE</rdeDom:roid>", "-OTHER</rdeDom:roid>")
        ),
    )
    importer.import_deposits(replica, [other])
    assert rows(replica, "SELECT tld, count(*) FROM domain GROUP BY tld") == [
        ("example", 3),
        ("other", 3),
    ]
    # A shared contact is claimed by both TLDs; a later FULL of one does not remove it.
    assert rows(replica, "SELECT DISTINCT tld FROM claim WHERE key = 'jd1234' ORDER BY tld") == [
        ("example",),
        ("other",),
    ]


# --- refusals: message and untouched replica ------------------------------------------------


def test_malformed_xml(replica: Path, tmp_path: Path) -> None:
    bad = variant(tmp_path, DIFF, "bad.xml", lambda t: t[: t.index("</rdeContact:email>")])
    err = refused(replica, bad)
    assert str(err).startswith("bad.xml:")
    assert "malformed XML" in err.reason
    assert "ana@" not in str(err)


def test_unknown_mandatory_namespace(replica: Path, tmp_path: Path) -> None:
    bad = variant(
        tmp_path,
        DIFF,
        "unknown.xml",
        lambda t: t.replace("</contents>", '<z:obj xmlns:z="urn:example:z-1.0"/>\n</contents>'),
    )
    err = refused(replica, bad)
    assert err.reason == "<{urn:example:z-1.0}:obj>: unknown mandatory namespace urn:example:z-1.0"
    assert err.line == 73


def test_missing_mandatory_element(replica: Path, tmp_path: Path) -> None:
    bad = variant(
        tmp_path,
        DIFF,
        "missing.xml",
        lambda t: t.replace("<rdeDomain:roid>DNEW-EXAMPLE</rdeDomain:roid>", ""),
    )
    err = refused(replica, bad)
    assert str(err) == "missing.xml:46: domain new.example: missing <rdeDomain:roid>"


def test_broken_chain(replica: Path, tmp_path: Path) -> None:
    importer.import_deposits(replica, [DIFF])
    bad = variant(
        tmp_path,
        DIFF,
        "chain.xml",
        lambda t: t.replace('id="20261123001"', 'id="20261124001"').replace(
            "2026-11-23T00:00:00Z", "2026-11-24T00:00:00Z"
        ),
    )
    err = refused(replica, bad)  # its prevId is the FULL, but the last applied is the DIFF
    assert err.reason == (
        "DIFF 20261124001: prevId 20261122001 is not the last applied deposit of TLD example "
        "(20261123001)"
    )


def test_diff_without_its_full(tmp_path: Path) -> None:
    err = refused(tmp_path / "fresh.db", DIFF)
    assert "prevId 20261122001 is not an applied deposit" in err.reason
    assert not (tmp_path / "fresh.db").exists()
    assert not list(tmp_path.glob(".fresh.db*"))


def test_backwards_watermark(replica: Path, tmp_path: Path) -> None:
    bad = variant(
        tmp_path,
        DIFF,
        "old.xml",
        lambda t: t.replace("2026-11-23T00:00:00Z", "2026-11-21T00:00:00Z"),
    )
    err = refused(replica, bad)
    assert "watermark 2026-11-21T00:00:00Z goes backwards" in err.reason


def test_repeated_full_id_without_higher_resend(replica: Path) -> None:
    err = refused(replica, FULL)
    assert "already applied with resend 0" in err.reason


def test_entity_bomb(replica: Path) -> None:
    err = refused(replica, DATA / "bomb.xml")
    assert str(err) == "bomb.xml:2: DOCTYPE / entity declarations are not allowed"


def test_dangling_registrar_refuses(replica: Path, tmp_path: Path) -> None:
    bad = variant(
        tmp_path,
        DIFF,
        "dangling.xml",
        lambda t: t.replace(
            "<rdeDomain:clID>RegistrarX</rdeDomain:clID>\n      <rdeDomain:crRr>RegistrarX"
            "</rdeDomain:crRr>\n      <rdeDomain:crDate>2026-11-22T09",
            "<rdeDomain:clID>NoSuchRegistrar</rdeDomain:clID>\n      <rdeDomain:crRr>Registrar"
            "X</rdeDomain:crRr>\n      <rdeDomain:crDate>2026-11-22T09",
        ),
    )
    err = refused(replica, bad)
    assert str(err) == (
        "dangling.xml:46: domain new.example: sponsoring registrar NoSuchRegistrar does not "
        "exist (dangling reference)"
    )


def test_dangling_registrant_refuses(replica: Path, tmp_path: Path) -> None:
    bad = variant(
        tmp_path,
        DIFF,
        "registrant.xml",
        lambda t: t.replace(
            "<rdeDomain:registrant>new1</rdeDomain:registrant>\n      <rdeDomain:clID>",
            "<rdeDomain:registrant>ghost</rdeDomain:registrant>\n      <rdeDomain:clID>",
        ),
    )
    err = refused(replica, bad)
    assert "domain new.example: registrant ghost does not exist" in err.reason


def test_failed_full_into_a_new_replica_leaves_nothing(tmp_path: Path) -> None:
    bad = variant(tmp_path, FULL, "bad_full.xml", lambda t: t.replace("</rde:deposit>", ""))
    err = refused(tmp_path / "new.db", bad)
    assert "malformed XML" in err.reason
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad_full.xml"]


def test_a_failure_keeps_earlier_deposits_of_the_same_run(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    bad = variant(tmp_path, DIFF, "bad.xml", lambda t: t.replace("</deposit>", ""))
    with pytest.raises(importer.ImportFailed):
        importer.import_deposits(path, [FULL, bad])
    assert rows(path, "SELECT id FROM deposit") == [("20261122001",)]


def test_command_line_prints_one_line_and_exits_non_zero(
    replica: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser()
    escrow_cli.add_arguments(parser)
    bad = variant(
        tmp_path, DIFF, "cli.xml", lambda t: t.replace('prevId="20261122001"', 'prevId="x"')
    )
    before = digest(replica)
    code = escrow_cli.run(parser.parse_args(["--replica", str(replica), str(bad)]))
    assert code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("rdds import: cli.xml:11: DIFF 20261123001: prevId x is not an applied")
    assert "Traceback" not in err
    assert digest(replica) == before
    args = parser.parse_args(["--replica", str(replica), str(tmp_path / "no.xml")])
    missing = escrow_cli.run(args)
    assert missing == 1
    assert "no.xml:0: cannot read" in capsys.readouterr().err


def test_command_line_success(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    escrow_cli.add_arguments(parser)
    code = escrow_cli.run(
        parser.parse_args(["--replica", str(tmp_path / "r.db"), str(FULL), str(DIFF)])
    )
    assert code == 0
    out = capsys.readouterr().err
    assert "applied FULL 20261122001" in out and "applied DIFF 20261123001" in out
    # Reports name objects by key only: no personal data from the deposit.
    for value in ("Jürgen", "Dulles", "jürgen@", "+1.703", "Hostmaster"):
        assert value not in out


def test_migrates_an_older_replica_inside_the_transaction(tmp_path: Path) -> None:
    """A replica whose deposit table predates the tld column is upgraded by the import."""
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(
        schema.SCHEMA.replace(
            "    tld       TEXT                                  -- escrow chains are per TLD\n", ""
        ).replace("applied   TEXT NOT NULL,\n", "applied   TEXT NOT NULL\n")
    )
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    shutil.copy(path, tmp_path / "copy.db")
    importer.import_deposits(path, [FULL])
    assert ("tld",) in [(r[1],) for r in rows(path, "PRAGMA table_info(deposit)")]


def test_the_documented_example_deposit_imports(tmp_path: Path) -> None:
    doc = (Path(__file__).parent.parent.parent / "docs" / "escrow.md").read_text(encoding="utf-8")
    example = doc.split("```xml\n", 1)[1].split("```", 1)[0]
    deposit = tmp_path / "coop_2026-11-22_full_S1_R0.xml"
    deposit.write_text(example, encoding="utf-8")
    lines: list[str] = []
    importer.import_deposits(tmp_path / "r.db", [deposit], report=lines.append)
    assert rows(tmp_path / "r.db", "SELECT * FROM tld") == [
        ("coop", "sponsored", "coop", "COOP", 0)
    ]
    assert rows(tmp_path / "r.db", "SELECT coop_category, coop_certified FROM domain") == [
        ("COOP", 1)
    ]
    assert rows(tmp_path / "r.db", "SELECT kind, verified, disclose_yes FROM contact") == [
        ("legal", 1, "org")
    ]
    assert not [x for x in lines if "warning" in x or "header count" in x]


def incr(tmp_path: Path, prev: str, name: str = "incr.xml") -> Path:
    return variant(
        tmp_path,
        DIFF,
        name,
        lambda t: (
            t.replace('type="DIFF" id="20261123001"', 'type="INCR" id="20261124001"')
            .replace('prevId="20261122001"', f'prevId="{prev}"')
            .replace("2026-11-23T00:00:00Z", "2026-11-24T00:00:00Z")
        ),
    )


def test_incr_applies_on_top_of_its_full_even_after_diffs(replica: Path, tmp_path: Path) -> None:
    importer.import_deposits(replica, [DIFF])
    importer.import_deposits(replica, [incr(tmp_path, "20261122001")])
    assert rows(replica, "SELECT type FROM deposit ORDER BY seq") == [
        ("FULL",),
        ("DIFF",),
        ("INCR",),
    ]


def test_incr_whose_prev_is_not_the_last_full_is_refused(replica: Path, tmp_path: Path) -> None:
    importer.import_deposits(replica, [DIFF])
    err = refused(replica, incr(tmp_path, "20261123001", "bad_incr.xml"))
    assert "prevId 20261123001 is not the last applied FULL of TLD example" in err.reason


def test_full_resend_replaces_only_while_it_is_the_latest(replica: Path, tmp_path: Path) -> None:
    resent = variant(tmp_path, FULL, "full_r1.xml", lambda t: t.replace('resend="0"', 'resend="1"'))
    importer.import_deposits(replica, [resent])
    assert rows(replica, "SELECT id, resend FROM deposit") == [("20261122001", 1)]
    importer.import_deposits(replica, [DIFF])
    late = variant(tmp_path, FULL, "full_r2.xml", lambda t: t.replace('resend="0"', 'resend="2"'))
    err = refused(replica, late)
    assert "later deposits of TLD example are already applied" in err.reason


def test_full_drops_objects_no_tld_claims_any_more(replica: Path, tmp_path: Path) -> None:
    def edit(t: str) -> str:
        start = t.index("    <rdeContact:contact>\n      <rdeContact:id>sh8013")
        end = t.index("</rdeContact:contact>", start) + len("</rdeContact:contact>\n")
        return (
            (t[:start] + t[end:])
            .replace('id="20261122001"', 'id="20261124001"')
            .replace("2026-11-22T00:00:00Z", "2026-11-24T00:00:00Z")
            .replace("<rdeDom:registrant>sh8013", "<rdeDom:registrant>jd1234")
        )

    lines: list[str] = []
    importer.import_deposits(
        replica, [variant(tmp_path, FULL, "f2.xml", edit)], report=lines.append
    )
    assert rows(replica, "SELECT id FROM contact") == [("jd1234",)]
    assert any("administrative contact sh8013 does not exist (kept)" in x for x in lines)


# --- contradictions and values no registry may publish (refused, replica unchanged) ----------


def next_full(t: str) -> str:
    """The FULL as the next day's deposit, so that only the edit can refuse it."""
    return t.replace('id="20261122001"', 'id="20261124001"').replace(
        "2026-11-22T00:00:00Z", "2026-11-24T00:00:00Z"
    )


def block(t: str, inner: str, element: str) -> str:
    """The lines of the `element` that contains `inner`."""
    start = t.rindex(f"<{element}", 0, t.index(inner))
    start = t.rindex("\n", 0, start) + 1
    closer = f"</{element}>"
    return t[start : t.index(closer, start) + len(closer) + 1]


def line_of(t: str, needle: str, nth: int = 1) -> int:
    pos = -1
    for _ in range(nth):
        pos = t.index(needle, pos + 1)
    return t[:pos].count("\n") + 1


def test_a_contact_twice_is_refused_naming_both_lines(replica: Path, tmp_path: Path) -> None:
    # The second copy would have cleared jd1234's at-risk marker (last copy wins).
    def edit(t: str) -> str:
        jd = block(t, "<rdeContact:id>jd1234", "rdeContact:contact")
        copy = jd.replace('atRisk="true"', 'atRisk="false"')
        return next_full(t).replace("    <rdeHeader:header>", copy + "    <rdeHeader:header>")

    bad = variant(tmp_path, FULL, "twice.xml", edit)
    text = bad.read_text(encoding="utf-8")
    first = line_of(text, "<rdeContact:id>jd1234") - 1
    second = line_of(text, "<rdeContact:id>jd1234", 2) - 1
    err = refused(replica, bad)
    assert str(err) == (
        f"twice.xml:{second}: contact jd1234 appears twice in the deposit "
        f"(lines {first} and {second})"
    )
    assert rows(replica, "SELECT at_risk FROM contact WHERE id = 'jd1234'") == [(1,)]


@pytest.mark.parametrize(
    ("inner", "element", "named"),
    [
        ("<rdeDom:name>example1.example", "rdeDom:domain", "domain example1.example"),
        ("<rdeHost:name>ns1.example1.example", "rdeHost:host", "host ns1.example1.example"),
        ("<rdeRegistrar:id>RegistrarX", "rdeRegistrar:registrar", "registrar RegistrarX"),
        ("<rdeIDN:url>", "rdeIDN:idnTableRef", "IDN table de"),
        ("<rdeNNDN:aName>", "rdeNNDN:NNDN", "NNDN xn--exmpel-cua.example"),
    ],
    ids=["domain", "host", "registrar", "idn", "nndn"],
)
def test_every_kind_of_object_twice_is_refused(
    replica: Path, tmp_path: Path, inner: str, element: str, named: str
) -> None:
    def edit(t: str) -> str:
        copy = block(t, inner, element)
        return next_full(t).replace("    <rdeHeader:header>", copy + "    <rdeHeader:header>")

    err = refused(replica, variant(tmp_path, FULL, "twice.xml", edit))
    assert err.reason.startswith(f"{named} appears twice in the deposit (lines ")


def test_a_domain_twice_in_a_diff_is_refused(replica: Path, tmp_path: Path) -> None:
    def edit(t: str) -> str:
        copy = block(t, "<rdeDomain:name>new.example", "rdeDomain:domain")
        return t.replace(
            "  </contents>", copy.replace("addPeriod", "renewPeriod") + "  </contents>"
        )

    err = refused(replica, variant(tmp_path, DIFF, "twice.xml", edit))
    assert err.reason == "domain new.example appears twice in the deposit (lines 46 and 73)"
    assert err.line == 73


def test_two_data_collection_policies_are_refused(replica: Path, tmp_path: Path) -> None:
    def edit(t: str) -> str:
        copy = block(t, "<rdeEppParams:version>", "rdeEppParams:eppParams")
        return next_full(t).replace(copy, copy + copy.replace("<epp:all/>", "<epp:none/>"))

    err = refused(replica, variant(tmp_path, FULL, "epp.xml", edit))
    assert err.reason == "more than one <rdeEppParams:eppParams>"


# (the text edited, its replacement (the line is where it stands), the reason)
BAD_VALUES = [
    pytest.param(
        "<contact:cc>CH</contact:cc>",
        "<contact:cc>Sami Calder secret</contact:cc>",
        "contact: postalInfo: cc is not an ISO 3166-1 alpha-2 country code",
        id="contact-cc-free-text",
    ),
    pytest.param(
        "<contact:cc>US</contact:cc>",
        "<contact:cc>XK</contact:cc>",  # user-assigned, not an ISO 3166-1 code
        "contact: postalInfo: cc is not an ISO 3166-1 alpha-2 country code",
        id="contact-cc-user-assigned",
    ),
    pytest.param(
        "<rdeContact:email>jürgen@exämple.example</rdeContact:email>",
        "<rdeContact:email>Sami Calder secret</rdeContact:email>",
        "contact: email is not an email address (RFC 5733 §2.6)",
        id="contact-email-free-text",
    ),
    pytest.param(
        "<rdeContact:email>jürgen@exämple.example</rdeContact:email>",
        "<rdeContact:email></rdeContact:email>",
        "contact: email is not an email address (RFC 5733 §2.6)",
        id="contact-email-empty",
    ),
    pytest.param(
        "<rdeContact:voice>+41.445555555</rdeContact:voice>",
        "<rdeContact:voice>+41 44 555 55 55</rdeContact:voice>",
        "contact: voice is not a telephone number +CC.NUMBER (RFC 5733 §2.5)",
        id="contact-voice-spaces",
    ),
    pytest.param(
        '<rdeContact:voice x="1234">+1.7035555555',
        '<rdeContact:voice x="ask for Sami">+1.7035555555',
        "contact: voice: extension (x) is not digits",
        id="contact-voice-extension-text",
    ),
    pytest.param(
        '<rdeContact:fax x="9">+1.7035555556</rdeContact:fax>',
        '<rdeContact:fax x="9"></rdeContact:fax>',
        "contact: fax: an extension without a number",
        id="contact-fax-extension-only",
    ),
    pytest.param(
        '<rdeContact:fax x="9">+1.7035555556</rdeContact:fax>',
        '<rdeContact:fax x="9">+1.70355555561234567</rdeContact:fax>',
        "contact: fax is not a telephone number +CC.NUMBER (RFC 5733 §2.5)",
        id="contact-fax-too-long",
    ),
    pytest.param(
        "<rdeRegistrar:cc>US</rdeRegistrar:cc>",
        "<rdeRegistrar:cc>ZZ</rdeRegistrar:cc>",
        "registrar: postalInfo: cc is not an ISO 3166-1 alpha-2 country code",
        id="registrar-cc",
    ),
    pytest.param(
        "<rdeRegistrar:email>info@registrar-x.example</rdeRegistrar:email>",
        "<rdeRegistrar:email>info at registrar-x</rdeRegistrar:email>",
        "registrar: email is not an email address (RFC 5733 §2.6)",
        id="registrar-email",
    ),
    pytest.param(
        "<rdeRegistrar:fax>+1.7035555556</rdeRegistrar:fax>",
        "<rdeRegistrar:fax>7035555556</rdeRegistrar:fax>",
        "registrar: fax is not a telephone number +CC.NUMBER (RFC 5733 §2.5)",
        id="registrar-fax-no-plus",
    ),
    pytest.param(
        'abuseVoice="+1.7035555599"',
        'abuseVoice="call +1 703"',
        "registrar: rddsExt:registrar abuseVoice is not a telephone number +CC.NUMBER "
        "(RFC 5733 §2.5)",
        id="registrar-abuse-voice",
    ),
    pytest.param(
        'abuseEmail="abuse@registrar-x.example"',
        'abuseEmail="abuse@"',
        "registrar: rddsExt:registrar abuseEmail is not an email address (RFC 5733 §2.6)",
        id="registrar-abuse-email",
    ),
]


@pytest.mark.parametrize(("old", "new", "reason"), BAD_VALUES)
def test_a_bad_value_refuses_with_file_line_and_reason(
    replica: Path, tmp_path: Path, old: str, new: str, reason: str
) -> None:
    bad = variant(tmp_path, FULL, "values.xml", lambda t: next_full(t).replace(old, new, 1))
    err = refused(replica, bad)
    assert str(err) == f"values.xml:{line_of(bad.read_text(encoding='utf-8'), new)}: {reason}"


def test_a_bad_value_into_a_new_replica_leaves_nothing(tmp_path: Path) -> None:
    old, new, _ = BAD_VALUES[0].values
    bad = variant(tmp_path, FULL, "values.xml", lambda t: t.replace(old, new, 1))
    refused(tmp_path / "new.db", bad)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["values.xml"]


def test_a_lower_case_country_code_is_stored_in_capitals(tmp_path: Path) -> None:
    full = variant(
        tmp_path,
        FULL,
        FULL.name,
        lambda t: t.replace("<contact:cc>US", "<contact:cc>us").replace(
            "<rdeRegistrar:cc>US", "<rdeRegistrar:cc>us"
        ),
    )
    importer.import_deposits(tmp_path / "r.db", [full])
    (postal,) = rows(tmp_path / "r.db", "SELECT postal FROM contact WHERE id = 'sh8013'")
    assert json.loads(postal[0])[0]["cc"] == "US"
    assert rows(tmp_path / "r.db", "SELECT cc FROM registrar") == [("US",)]


# --- deposits shaped like other registry software's (tests/data/deposits/, docs/escrow.md) ---

RFC_SHAPED_FULL = DATA / "test_2026-11-22_full_S1_R0.xml"
RFC_SHAPED_DIFF = DATA / "test_2026-11-23_diff_S1_R0.xml"
GENERATOR_SHAPED_FULL = DATA / "invalid_2026-11-22_full_S1_R0.xml"


def report_of(path: Path, deposit: Path) -> list[str]:
    lines: list[str] = []
    importer.import_deposits(path, [deposit], report=lines.append)
    return lines


def unannounced(deposit: Path, line: int, element: str, name: str) -> str:
    return (
        f"{deposit.name}:{line}: <{element}>: namespace urn:ietf:params:xml:ns:{name}-1.0 "
        "not announced in rdeMenu (read anyway)"
    )


def test_deposits_shaped_like_rfc_9022s_example_import_with_warnings_only(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    lines = report_of(path, RFC_SHAPED_FULL)
    # The policy object its menu forgot is a warning now, not a refusal; the counts agree.
    assert lines == [
        unannounced(RFC_SHAPED_FULL, 292, "rdePolicy:policy", "rdePolicy"),
        f"{RFC_SHAPED_FULL.name}:74: domain lantern.test: nameserver ns2.hosting.example does "
        "not exist (kept)",
        f"{RFC_SHAPED_FULL.name}: applied FULL 20261122T01 (resend 0) for TLD test: 2 contact, "
        "2 domain, 1 host, 1 idn, 1 nndn, 1 registrar; generation 1; 2 warning(s)",
    ]
    assert rows(path, "SELECT name, uname, idn_table FROM domain ORDER BY name") == [
        ("lantern.test", None, None),
        ("xn--lntern-bua.test", "läntern.test", "de-DE"),
    ]
    # Text wrapped over lines (RFC 9022's example style) is read without the white space.
    assert rows(path, "SELECT voice, voice_ext, email FROM contact WHERE id = 'tc4402'") == [
        ("+44.5550104402", "204", "noc@lantern-works.example")
    ]
    assert rows(path, "SELECT url FROM idn_table") == [
        ("https://www.iana.org/domains/idn-tables/tables/test_de-de_1.0.txt",)
    ]
    assert rows(path, "SELECT aname, state FROM nndn") == [("xn--lntern-pta.test", "withheld")]
    assert rows(path, "SELECT disclose_default FROM tld") == [(1,)]  # dcp access all
    assert rows(path, "SELECT disclose_no FROM contact WHERE id = 'tc4401'") == [("email voice",)]

    assert report_of(path, RFC_SHAPED_DIFF) == [
        unannounced(RFC_SHAPED_DIFF, 31, "rdeNNDN:delete", "rdeNNDN"),
        f"{RFC_SHAPED_DIFF.name}: applied DIFF 20261123T01 (resend 0) for TLD test: 3 deleted, "
        "1 domain; generation 2; 1 warning(s)",
    ]
    assert rows(path, "SELECT name, statuses FROM domain") == [("lantern.test", "clientHold")]
    assert rows(path, "SELECT count(*) FROM idn_table") == [(0,)]
    assert rows(path, "SELECT count(*) FROM nndn") == [(0,)]


def test_a_deposit_shaped_like_an_xml_writers_output_imports(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    warning, applied = report_of(path, GENERATOR_SHAPED_FULL)
    # Only the header's namespace, missing from the menu, is worth a warning: the counts of
    # rdeEppParams and rdePolicy are not compared, the others agree.
    assert warning == unannounced(GENERATOR_SHAPED_FULL, 28, "rdeHeader:header", "rdeHeader")
    assert applied.endswith(
        ": 4 contact, 3 domain, 2 idn, 2 nndn, 2 registrar; generation 1; 1 warning(s)"
    )
    assert rows(path, "SELECT id, iana_id FROM registrar ORDER BY id") == [
        ("9191-IANA", 9191),
        ("LOCAL-R1", None),  # <gurid/>: no IANA id
    ]
    ns = rows(path, "SELECT host, addrs FROM domain_ns WHERE domain = 'harbour.invalid'")
    assert sorted((h, json.loads(a)) for h, a in ns) == [
        ("ns.granite-web.example", []),
        ("ns1.harbour.invalid", ["203.0.113.53"]),
    ]
    assert rows(path, "SELECT key_tag FROM domain_ds") == [(40404,)]
    assert rows(path, "SELECT uname FROM domain WHERE name = 'xn--hfen-loa.invalid'") == [
        ("häfen.invalid",)
    ]
    assert rows(path, "SELECT id FROM idn_table ORDER BY id") == [("de",), ("fr",)]
    assert rows(path, "SELECT aname, state, created FROM nndn ORDER BY aname") == [
        ("registry.invalid", "blocked", None),
        ("whois.invalid", "blocked", None),
    ]
    assert rows(path, "SELECT statuses FROM contact WHERE id = 'Q7X2M4K9P1Z8R3T6'") == [("ok",)]
    (postal,) = rows(path, "SELECT postal FROM contact WHERE id = 'Q7X2M4K9P1Z8R3T6'")
    assert json.loads(postal[0])[0]["org"] is None  # <contact:org/>
    assert rows(path, "SELECT fax FROM contact WHERE id = 'Q7X2M4K9P1Z8R3T6'") == [(None,)]
    assert rows(path, "SELECT disclose_default FROM tld") == [(0,)]  # personalAndOther

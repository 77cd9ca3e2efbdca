"""The disclosure log's hash chain: canonical records, and every kind of tampering."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from access import chain

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def disclosure(i: int, **kw: object) -> chain.Disclosure:
    base: dict[str, object] = {
        "time": T0 + dt.timedelta(days=20 * i),
        "credential": "cred-1",
        "organisation": "Example Police",
        "tier": "law-enforcement",
        "purpose": "criminalInvestigationAndDNSAbuse",
        "issuer": None,
        "object": f"domain/d{i}.org",
        "fields": ("Registrant Name", "Registrant Email"),
        "body_sha256": "ab" * 32,
    }
    base.update(kw)
    return chain.Disclosure(**base)  # type: ignore[arg-type]


def build(n: int) -> tuple[list[bytes], chain.Anchor]:
    lines, head = [], chain.GENESIS
    for i in range(1, n + 1):
        record = chain.make_record(disclosure(i), i, head)
        head = record["hash"]
        lines.append(chain.line(record)[:-1])
    return lines, chain.Anchor(n, head)


def test_intact_log_verifies() -> None:
    lines, anchor = build(5)
    verdict = chain.verify(lines, anchor)
    assert verdict.ok and verdict.count == 5 and verdict.head == anchor.head


def test_empty_log_verifies_against_the_genesis_anchor_only() -> None:
    assert chain.verify([], chain.Anchor(0, chain.GENESIS)).ok
    # A data directory has its anchor from the start: without one, nothing can be vouched for.
    problem = chain.verify([], None).problem
    assert problem is not None and problem.line == 0 and "no readable anchor" in problem.message


@pytest.mark.parametrize("noted", [0, 1, 3, 5])
def test_a_noted_head_still_in_the_log_verifies(noted: int) -> None:
    lines, anchor = build(5)
    head = json.loads(lines[noted - 1])["hash"] if noted else chain.GENESIS
    verdict = chain.verify(lines, anchor, expect_head=head)
    assert verdict.ok and verdict.expected_at == noted


def test_a_rewritten_log_lacks_the_noted_head() -> None:
    lines, _ = build(5)
    noted = json.loads(lines[2])["hash"]
    # The whole log rewritten from record 2 on with recomputed hashes, and a matching anchor.
    head, forged = chain.GENESIS, []
    for i in range(1, 6):
        edit = {"organisation": "Someone Else"} if i == 2 else {}
        record = chain.make_record(disclosure(i, **edit), i, head)
        head = record["hash"]
        forged.append(chain.line(record)[:-1])
    assert forged[0] == lines[0] and forged[2] != lines[2]
    assert chain.verify(forged, chain.Anchor(5, head)).ok  # consistent on its own...
    verdict = chain.verify(forged, chain.Anchor(5, head), expect_head=noted)
    assert verdict.problem is not None and "expected head" in verdict.problem.message
    # ...and so is an emptied log with a fresh genesis anchor.
    verdict = chain.verify([], chain.Anchor(0, chain.GENESIS), expect_head=noted)
    assert verdict.problem is not None and "expected head" in verdict.problem.message


def test_an_anchor_more_than_one_record_behind_was_replaced() -> None:
    lines, _ = build(4)
    verdict = chain.verify(lines, chain.Anchor(0, chain.GENESIS))
    assert verdict.problem is not None and "anchor counts 0 of 4" in verdict.problem.message
    one_behind = chain.Anchor(3, json.loads(lines[2])["hash"])
    assert chain.verify(lines, one_behind).beyond_anchor == 1


def test_record_format_is_canonical_and_holds_no_values() -> None:
    lines, _ = build(1)
    record = json.loads(lines[0])
    assert set(record) == chain.KEYS
    assert record["seq"] == 1 and record["prev"] == chain.GENESIS
    assert record["time"] == "2026-03-21T12:00:00.000000Z"
    assert record["fields"] == ["Registrant Email", "Registrant Name"]  # sorted names only
    body = {k: v for k, v in record.items() if k != "hash"}
    expected = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    import hashlib

    assert record["hash"] == hashlib.sha256(expected.encode()).hexdigest()
    assert lines[0] == json.dumps(record, sort_keys=True, separators=(",", ":")).encode()


def _edit(raw: bytes, rehash: bool, **changes: object) -> bytes:
    record = json.loads(raw)
    record.update(changes)
    if rehash:
        record["hash"] = chain.record_hash(record)
    return chain.canonical(record)


def test_edited_record_is_named() -> None:
    lines, anchor = build(5)
    lines[2] = _edit(lines[2], rehash=False, organisation="Someone Else")
    verdict = chain.verify(lines, anchor)
    assert verdict.problem == chain.Problem(
        3, "record 3: its content does not match its hash (edited)"
    )
    assert verdict.count == 2


def test_edited_and_rehashed_record_breaks_the_next_link() -> None:
    lines, anchor = build(5)
    lines[2] = _edit(lines[2], rehash=True, fields=[])
    verdict = chain.verify(lines, anchor)
    assert verdict.problem is not None and verdict.problem.line == 4
    assert "does not chain to record 3" in verdict.problem.message


def test_edited_last_record_rehashed_fails_against_the_anchor() -> None:
    lines, anchor = build(5)
    lines[4] = _edit(lines[4], rehash=True, tier="registry-staff")
    verdict = chain.verify(lines, anchor)
    assert verdict.problem is not None and verdict.problem.line == 5
    assert "anchor" in verdict.problem.message


def test_whitespace_edit_is_detected() -> None:
    lines, anchor = build(3)
    lines[1] = lines[1].replace(b",", b", ", 1)
    verdict = chain.verify(lines, anchor)
    assert verdict.problem is not None and verdict.problem.line == 2


def test_deleted_middle_record_is_named() -> None:
    lines, anchor = build(5)
    del lines[1]
    verdict = chain.verify(lines, anchor)
    assert verdict.problem == chain.Problem(
        2, "expected record 2, found record 3 (record 2 deleted or moved?)"
    )


def test_deleted_last_record_is_caught_by_the_anchor() -> None:
    lines, anchor = build(5)
    del lines[-1]
    verdict = chain.verify(lines, anchor)
    assert verdict.problem is not None and verdict.problem.line == 5
    assert "anchor counts 5" in verdict.problem.message
    # Without the anchor it would go unnoticed: the documented limit.
    assert chain.verify(lines, chain.Anchor(4, json.loads(lines[-1])["hash"])).ok


def test_inserted_record_is_named() -> None:
    lines, anchor = build(4)
    forged = chain.make_record(disclosure(9), 3, json.loads(lines[1])["hash"])
    lines.insert(2, chain.canonical(forged))
    verdict = chain.verify(lines, anchor)
    # The forged record chains, the genuine record 3 after it no longer does.
    assert verdict.problem is not None and verdict.problem.line == 4
    assert "expected record 4, found record 3" in verdict.problem.message


def test_reordered_records_are_named() -> None:
    lines, anchor = build(4)
    lines[1], lines[2] = lines[2], lines[1]
    verdict = chain.verify(lines, anchor)
    assert verdict.problem is not None and verdict.problem.line == 2


def test_renumbered_reorder_breaks_the_chain() -> None:
    lines, anchor = build(4)
    a, b = json.loads(lines[1]), json.loads(lines[2])
    a["seq"], b["seq"] = 3, 2
    lines[1], lines[2] = _edit(chain.canonical(b), True), _edit(chain.canonical(a), True)
    verdict = chain.verify(lines, anchor)
    assert verdict.problem is not None and verdict.problem.line == 2


def test_torn_line_and_garbage_are_named() -> None:
    lines, anchor = build(3)
    lines[2] = lines[2][:40]
    assert chain.verify(lines, anchor).problem == chain.Problem(
        3, "not a well-formed record (edited or torn)"
    )
    assert chain.verify([b"not json"], None).problem is not None


def test_missing_anchor_with_records_fails() -> None:
    lines, _ = build(2)
    verdict = chain.verify(lines, None)
    assert verdict.problem is not None and "anchor" in verdict.problem.message


def test_records_beyond_the_anchor_are_reported_not_fatal() -> None:
    lines, _ = build(3)
    anchor = chain.Anchor(2, json.loads(lines[1])["hash"])
    verdict = chain.verify(lines, anchor)
    assert verdict.ok and verdict.beyond_anchor == 1
    wrong = chain.Anchor(2, "f" * 64)
    assert chain.verify(lines, wrong).problem == chain.Problem(
        2, "record 2: does not match the anchor's head hash"
    )


def test_where_record_and_anchor_commit_together_no_record_may_be_beyond() -> None:
    lines, _ = build(3)
    anchor = chain.Anchor(2, json.loads(lines[1])["hash"])
    verdict = chain.verify(lines, anchor, max_beyond=0)
    assert verdict.problem == chain.Problem(
        0,
        "the anchor counts 2 of 3 records: the anchor is rewritten after every append, "
        "so it was replaced",
    )
    assert chain.verify(lines[:2], anchor, max_beyond=0).ok


@pytest.mark.parametrize(
    "raw",
    [b"", b"{}", b'{"count":-1,"head":"' + b"0" * 64 + b'"}', b'{"count":1,"head":"xyz"}'],
)
def test_bad_anchor_files_are_rejected(raw: bytes) -> None:
    assert chain.parse_anchor(raw) is None


def test_anchor_round_trip() -> None:
    anchor = chain.Anchor(7, "a" * 64)
    assert chain.parse_anchor(chain.anchor_bytes(anchor)) == anchor


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError):
        chain.format_time(dt.datetime(2026, 1, 1))


def test_since_and_report() -> None:
    lines, _ = build(4)
    records = [json.loads(x) for x in lines]
    assert [r["seq"] for r in chain.since(records, "2026-04-30T00:00:00.000000Z")] == [3, 4]
    extra = chain.make_record(disclosure(1, tier="registry-staff", purpose=None), 5, "0" * 64)
    rows = chain.report([*records, extra])
    assert rows == [
        chain.ReportRow("2026-03", "law-enforcement", "criminalInvestigationAndDNSAbuse", 1),
        chain.ReportRow("2026-03", "registry-staff", "-", 1),
        chain.ReportRow("2026-04", "law-enforcement", "criminalInvestigationAndDNSAbuse", 2),
        chain.ReportRow("2026-05", "law-enforcement", "criminalInvestigationAndDNSAbuse", 1),
    ]
    text = chain.render_report(rows)
    lines_out = text.splitlines()
    assert lines_out[0].split() == ["month", "tier", "purpose", "disclosures"]
    assert lines_out[-1].split() == ["total", "5"]
    assert len({len(x) for x in lines_out}) == 1  # aligned


_LOG, _ANCHOR = build(4)


@settings(max_examples=200, deadline=None)
@given(
    index=st.integers(0, 3),
    position=st.integers(0, 10_000),
    byte=st.integers(0, 255),
)
def test_any_changed_byte_is_detected(index: int, position: int, byte: int) -> None:
    lines = list(_LOG)
    raw = bytearray(lines[index])
    position %= len(raw)
    if raw[position] == byte:
        byte = (byte + 1) % 256
    raw[position] = byte
    lines[index] = bytes(raw)
    verdict = chain.verify(lines, _ANCHOR)
    assert not verdict.ok
    assert verdict.problem is not None and verdict.problem.line <= index + 2

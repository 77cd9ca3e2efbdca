"""Golden WHOIS answers per showcase object, anonymous, byte-exact with CR LF.

Regenerate after an intended change with `RDDS_UPDATE_GOLDEN=1` and read the diff:
    RDDS_UPDATE_GOLDEN=1 PYTHONPATH=. python -m pytest tests/integration/test_whois_golden.py
Even then every answer is judged by the project's own WHOIS checker before it is written, and
the examples in docs/whois.md must still match the files.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conformance.check import check_whois
from core.lookup import Lookup
from redaction.policy import Requester
from registry import names
from tests.whois_support import (
    SHOWCASE,
    lookup,
    no_illegal_transitions,
    replica_path,
    update_golden,
)
from whois43 import render

__all__ = ["lookup", "no_illegal_transitions", "replica_path"]

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "whois"


def check(name: str, text: str) -> None:
    path = GOLDEN / f"{name}.txt"
    data = text.encode("utf-8")
    # The conformance checker judges what is about to be compared (or written): a golden
    # regenerated from a broken renderer is refused here, not trusted.
    assert check_whois(data, query=name) == [], name
    if update_golden():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return
    assert path.exists(), f"{path} missing: run with RDDS_UPDATE_GOLDEN=1"
    assert data == path.read_bytes(), f"{path.name} differs (RDDS_UPDATE_GOLDEN=1 to rewrite)"


def ctx(lk: Lookup) -> render.RenderContext:
    return render.RenderContext(watermark=lk.watermark)


@pytest.mark.parametrize("domain", SHOWCASE)
async def test_domain(lookup: Lookup, domain: str) -> None:
    rd = await lookup.domain(names.from_text(domain), Requester.anonymous())
    check(domain, render.domain(rd, ctx(lookup)))


async def test_nameserver(lookup: Lookup) -> None:
    host = await lookup.nameserver(names.from_text("ns1.example.coop"))
    check("ns1.example.coop", render.nameservers([host], ctx(lookup)))


async def test_registrar(lookup: Lookup) -> None:
    reg = await lookup.registrar("9100")
    check("registrar-9100", render.registrar(reg.registrar, ctx(lookup)))


async def test_not_found(lookup: Lookup) -> None:
    check("not-found", render.not_found("NOSUCHNAME.COOP", ctx(lookup)))


DOC = Path(__file__).resolve().parents[2] / "docs" / "whois.md"
_BLOCK = re.compile(r"(?:<!-- golden: (\S+) -->\n)?```\n(.*?)```", re.S)
#: First lines that make a fenced block an example of WHOIS output.
_OUTPUT = re.compile(r"(Domain Name|Server Name|Registrar|No match for)\b")


def _doc_blocks() -> list[tuple[str | None, str]]:
    return [(m.group(1), m.group(2)) for m in _BLOCK.finditer(DOC.read_text(encoding="utf-8"))]


def test_every_golden_passes_the_whois_checker() -> None:
    # Mutation that fails this (with RDDS_UPDATE_GOLDEN=1 too): print dates with +00:00
    # instead of Z in render._date, or drop the CR of CR LF in render._Lines.text.
    files = sorted(GOLDEN.glob("*.txt"))
    assert len(files) >= len(SHOWCASE) + 3
    for path in files:
        assert check_whois(path.read_bytes(), query=path.stem) == [], path.name


def test_doc_examples_are_goldens() -> None:
    # Each WHOIS example in docs/whois.md names its golden file and is that file, or its
    # beginning (the record without the footer), with LF line ends.
    blocks = _doc_blocks()
    annotated = [(name, text) for name, text in blocks if name]
    assert {name for name, _ in annotated} >= {
        "example.coop.txt",
        "ns1.example.coop.txt",
        "registrar-9100.txt",
        "not-found.txt",
    }
    for name, text in annotated:
        assert _lf(str(name)).startswith(text), f"docs/whois.md example differs from {name}"
    # The annotated domain answer is the whole golden, footer and terms included.
    assert dict(annotated)["example.coop.txt"] == _lf("example.coop.txt")


def _lf(name: str) -> str:
    return (GOLDEN / name).read_bytes().decode("utf-8").replace("\r\n", "\n")


def test_every_output_example_in_the_doc_is_tied_to_a_golden() -> None:
    untied = [
        text.splitlines()[0] for name, text in _doc_blocks() if not name and _OUTPUT.match(text)
    ]
    assert not untied, f"docs/whois.md examples without a golden: {untied}"

"""Golden WHOIS answers per showcase object, anonymous, byte-exact with CR LF.

Regenerate after an intended change with `RDDS_UPDATE_GOLDEN=1` and read the diff:
    RDDS_UPDATE_GOLDEN=1 PYTHONPATH=. python -m pytest tests/integration/test_whois_golden.py
"""

from __future__ import annotations

from pathlib import Path

import pytest

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

"""Search answer rendering: results as their lookups render them, metadata per RFC 8977 /
RFC 8982 / RFC 9536, redactions re-rooted, extensions declared only where used."""

from __future__ import annotations

import datetime as dt
from typing import Any

import jsonpath_rfc9535 as jsonpath
import pytest

from conformance.check import check_document
from core.search import ContactHit, FieldSet, Page
from rdap import render, render_search, search
from rdap.render import RenderContext
from redaction.engine import redact_domain, view_contact
from redaction.policy import Requester, default_policy
from registry.model import RegistrarRecord, ReplicaInfo
from tests.conftest import make_contact, make_record, make_registrar

BASE = "https://rdap.registry.example/"
INFO = ReplicaInfo(3, dt.datetime(2026, 11, 22, tzinfo=dt.UTC))
POLICY = default_policy()


def ctx(raw: str) -> RenderContext:
    return RenderContext(base_url=BASE, request_url=BASE.rstrip("/") + raw, port43="whois.x")


def domain_page(
    params: list[tuple[str, str]], *, n: int = 2, **kw: Any
) -> tuple[Page, search.SearchQuery]:
    query = search.parse(["domains"], params)
    hits = tuple(
        redact_domain(
            make_record(make_contact(handle=f"C{i}"), name=f"sample{i}.org", roid=f"D{i}-ORG"),
            Requester.anonymous(),
            POLICY,
        )
        for i in range(n)
    )
    base: dict[str, Any] = {
        "request": query.request,
        "hits": hits,
        "number": 1,
        "size": 50,
        "total": n,
        "truncated": False,
        "next_cursor": None,
        "generation_changed": False,
        "info": INFO,
    }
    base.update(kw)
    return Page(**base), query


RAW = "/domains?name=sample*.org"


def test_domain_results_are_their_lookups_minus_top_level_members() -> None:
    page, query = domain_page([("name", "sample*.org")])
    c = ctx(RAW)
    doc = render_search.search(page, query, c, cap=1000)
    lookup = render.domain(page.hits[1], c)  # type: ignore[arg-type]
    result = doc["domainSearchResults"][1]
    assert result == {k: v for k, v in lookup.items() if k not in render_search._TOP_ONLY}
    assert "notices" not in result and "rdapConformance" not in result


def test_redactions_are_rerooted_and_resolve() -> None:
    page, query = domain_page([("name", "sample*.org")])
    doc = render_search.search(page, query, ctx(RAW), cap=1000)
    entries = doc["redacted"]
    assert entries
    per_result = len(entries) // 2
    assert all(
        e.get("postPath", e.get("prePath", "")).startswith("$.domainSearchResults[")
        for e in entries
    )
    for e in entries:
        if "postPath" in e:
            # emptyValue: the path selects the emptied value in the served document.
            assert jsonpath.find(e["postPath"], doc), e
        else:
            # removal: the path selects nothing in the served document.
            assert not jsonpath.find(e["prePath"], doc) or e["method"] == "replacementValue"
    assert per_result * 2 == len(entries)
    assert "redacted" in doc["rdapConformance"]


def test_single_page_has_no_paging_metadata() -> None:
    page, query = domain_page([("name", "sample*.org")])
    doc = render_search.search(page, query, ctx(RAW), cap=1000)
    assert "paging_metadata" not in doc
    assert "paging" not in doc["rdapConformance"]
    assert {"sorting", "subsetting"} <= set(doc["rdapConformance"])
    assert "reverse_search" not in doc["rdapConformance"]


def test_count_gives_total_count() -> None:
    page, query = domain_page([("name", "sample*.org"), ("count", "true")])
    doc = render_search.search(page, query, ctx(RAW + "&count=true"), cap=1000)
    assert doc["paging_metadata"] == {"totalCount": 2}
    assert "paging" in doc["rdapConformance"]


def test_next_link_replaces_the_cursor() -> None:
    params = [("name", "sample*.org"), ("cursor", "1old")]
    page, query = domain_page(params, number=2, next_cursor="1new", total=200)
    doc = render_search.search(page, query, ctx(RAW + "&cursor=1old"), cap=1000)
    meta = doc["paging_metadata"]
    assert meta["pageSize"] == 50 and meta["pageNumber"] == 2
    (nxt,) = meta["links"]
    assert nxt["rel"] == "next"
    assert nxt["href"] == BASE + "domains?name=sample*.org&cursor=1new"
    assert nxt["value"] == BASE.rstrip("/") + RAW + "&cursor=1old"


def test_sorting_metadata_lists_every_sort_with_links() -> None:
    page, query = domain_page([("name", "sample*.org"), ("sort", "expirationDate:d")])
    doc = render_search.search(page, query, ctx(RAW), cap=1000)
    meta = doc["sorting_metadata"]
    assert meta["currentSort"] == "expirationDate:d"
    props = [s["property"] for s in meta["availableSorts"]]
    assert props == ["name", "registrationDate", "expirationDate", "lastChangedDate"]
    assert [s["default"] for s in meta["availableSorts"]] == [True, False, False, False]
    reg = meta["availableSorts"][1]
    assert [lk["href"] for lk in reg["links"]] == [
        BASE + "domains?name=sample*.org&sort=registrationDate",
        BASE + "domains?name=sample*.org&sort=registrationDate:d",
    ]
    # The declared JSONPath selects the sorted values in the answer.
    assert jsonpath.find(reg["jsonPath"], doc)


@pytest.mark.parametrize("fs", list(FieldSet))
def test_field_sets(fs: FieldSet) -> None:
    page, query = domain_page([("name", "sample*.org"), ("fieldSet", fs.value)])
    doc = render_search.search(page, query, ctx(RAW), cap=1000)
    result = doc["domainSearchResults"][0]
    meta = doc["subsetting_metadata"]
    assert meta["currentFieldSet"] == fs.value
    assert [s["name"] for s in meta["availableFieldSets"]] == ["id", "brief", "full"]
    if fs is FieldSet.ID:
        assert result == {"objectClassName": "domain", "ldhName": "sample0.org"}
    elif fs is FieldSet.BRIEF:
        assert set(result) == {"objectClassName", "handle", "ldhName", "status", "links"}
        assert [lk["rel"] for lk in result["links"]] == ["self"]
    else:
        assert "entities" in result
    # Only the full field set shows contacts, so only it declares redactions.
    assert ("redacted" in doc) is (fs is FieldSet.FULL)


def test_entity_brief_keeps_the_name_and_its_redaction() -> None:
    person = make_contact(handle="C1")
    view = view_contact(person, None, POLICY.default, POLICY, Requester.anonymous())
    query = search.parse(["entities"], [("handle", "C1"), ("fieldSet", "brief")])
    page = Page(query.request, (ContactHit(view, INFO),), 1, 50, 1, False, None, False, INFO, 100)
    doc = render_search.search(page, query, ctx("/entities?handle=C1&fieldSet=brief"), cap=9)
    (entity,) = doc["entitySearchResults"]
    assert entity["vcardArray"] == [
        "vcard",
        [["version", {}, "text", "4.0"], ["fn", {}, "text", ""]],
    ]
    (entry,) = doc["redacted"]
    assert entry["postPath"] == "$.entitySearchResults[0].vcardArray[1][?(@[0]=='fn')][3]"
    assert jsonpath.find(entry["postPath"], doc)


def test_entity_searches_carry_the_same_policy_notice_whatever_matched() -> None:
    query = search.parse(["entities"], [("fn", "Nobody At All")])
    empty = Page(query.request, (), 1, 50, 0, False, None, False, INFO, 100)
    reg = RegistrarRecord(make_registrar(), INFO)
    one = Page(query.request, (reg,), 1, 50, 1, False, None, False, INFO, 100)
    c = ctx("/entities?fn=Nobody%20At%20All")
    a = render_search.search(empty, query, c, cap=9)
    b = render_search.search(one, query, c, cap=9)
    assert a["notices"] == b["notices"]
    assert any(n["title"] == "Search Policy" for n in a["notices"])


def test_truncated_and_changed_notices() -> None:
    page, query = domain_page(
        [("name", "sample*.org")], truncated=True, generation_changed=True, total=None
    )
    doc = render_search.search(page, query, ctx(RAW), cap=1000)
    titles = {n["title"]: n for n in doc["notices"]}
    assert (
        titles["Search Results Truncated"]["type"] == "result set truncated due to excessive load"
    )
    assert "Registry Data Changed" in titles


def test_reverse_search_declares_its_mapping() -> None:
    params = [("fn", "Quinn*"), ("role", "registrant")]
    query = search.parse(["domains", "reverse_search", "entity"], params)
    page = Page(query.request, (), 1, 50, 0, False, None, False, INFO, 100)
    doc = render_search.search(page, query, ctx("/domains/reverse_search/entity?fn=Quinn*"), cap=9)
    assert doc["reverse_search_properties_mapping"] == [
        {"property": "fn", "propertyPath": "$.entities[*].vcardArray[1][?(@[0]=='fn')][3]"},
        {"property": "role", "propertyPath": "$.entities[*].roles"},
    ]
    assert "reverse_search" in doc["rdapConformance"]
    assert doc["domainSearchResults"] == []


@pytest.mark.parametrize("fs", list(FieldSet))
def test_rendered_answers_pass_the_checker(fs: FieldSet) -> None:
    params = [("name", "sample*.org"), ("fieldSet", fs.value), ("count", "true")]
    page, query = domain_page(params, next_cursor="1abc", total=120)
    raw = f"/domains?name=sample*.org&fieldSet={fs.value}&count=true"
    doc = render_search.search(page, query, ctx(raw), cap=1000)
    findings = check_document(doc, request_url=BASE.rstrip("/") + raw, gtld=None)
    assert [(f.code, f.path, f.message) for f in findings if f.severity.value != "info"] == []


def test_disclosed_follows_the_field_set() -> None:
    person = make_contact(handle="C1")
    staff = Requester("registry-staff", "legalActions")
    view = view_contact(person, None, POLICY.default, POLICY, staff)
    hit = ContactHit(view, INFO)
    full = render_search.disclosed(hit, FieldSet.FULL)
    assert "Contact Email" in full and "Contact Name" in full
    assert set(render_search.disclosed(hit, FieldSet.BRIEF)) == {
        "Contact Name",
        "Registry Contact ID",
    }
    assert render_search.disclosed(hit, FieldSet.ID) == ("Registry Contact ID",)


def test_help_members_list_reverse_properties() -> None:
    members = render_search.help_members({"fn", "email"})
    props = [p["property"] for p in members["reverse_search_properties"]]
    assert props == ["email", "fn", "role"]
    assert render_search.help_members(()) == {}

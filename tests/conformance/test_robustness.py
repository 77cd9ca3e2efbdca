"""Property tests: the pure checker judges any input and never raises."""

from __future__ import annotations

import contextlib
import json
import pathlib

from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.check import check_document, check_response, check_whois
from conformance.findings import Finding

GOOD = pathlib.Path(__file__).parent / "corpus" / "good" / "domain-gtld.json"
URL = "https://rdap.example.org/domain/example.org"
HEADERS = {"Content-Type": "application/rdap+json", "Access-Control-Allow-Origin": "*"}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "objectClassName",
                    "ldhName",
                    "unicodeName",
                    "entities",
                    "vcardArray",
                    "links",
                    "events",
                    "status",
                    "redacted",
                    "notices",
                    "rdapConformance",
                    "roles",
                    "handle",
                    "nameservers",
                    "ipAddresses",
                    "secureDNS",
                    "prePath",
                    "method",
                    "name",
                    "errorCode",
                ]
            )
            | st.text(max_size=8),
            children,
            max_size=5,
        )
    ),
    max_leaves=25,
)


def is_findings(result: object) -> bool:
    return isinstance(result, list) and all(isinstance(f, Finding) for f in result)


@settings(max_examples=150, deadline=None)
@given(doc=json_values, gtld=st.sampled_from([None, True, False]))
def test_any_json_document_is_judged_without_raising(doc: object, gtld: bool | None) -> None:
    assert is_findings(check_document(doc, request_url=URL, gtld=gtld))


@settings(max_examples=150, deadline=None)
@given(
    path=st.lists(
        st.sampled_from(["entities", 0, 1, "vcardArray", "redacted", "links"]), max_size=4
    ),
    value=json_values,
)
def test_good_document_with_any_subtree_replaced_is_judged(
    path: list[object], value: object
) -> None:
    doc = json.loads(GOOD.read_bytes())
    node: object = doc
    for step in path[:-1]:
        try:
            node = node[step]  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            break
    key = path[-1] if path else None
    # Keep the document JSON: string keys into objects, integer indexes into arrays.
    if isinstance(node, dict) and isinstance(key, str):
        node[key] = value
    elif isinstance(node, list) and isinstance(key, int):
        with contextlib.suppress(IndexError):
            node[key] = value
    assert is_findings(check_document(doc, request_url=URL, gtld=None))


@settings(max_examples=150, deadline=None)
@given(body=st.binary(max_size=200), status=st.integers(100, 599))
def test_any_body_and_status_are_judged(body: bytes, status: int) -> None:
    assert is_findings(check_response(URL, status, HEADERS, body))


@settings(max_examples=150, deadline=None)
@given(text=st.binary(max_size=300))
def test_any_whois_bytes_are_judged(text: bytes) -> None:
    assert is_findings(check_whois(text, query="example.org"))

"""Authorized RDAP through make_app on a real demo replica: credentials, purposes, OpenID
Connect tokens, the disclosure log, fail-closed writes, caching and logging."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import jwt
import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from cryptography.hazmat.primitives.asymmetric import ec

from access import credentials, disclosures
from access.credentials import CredentialStore
from access.service import build
from access.settings import AuthSettings
from core.lookup import Lookup
from rdap.server import make_app
from rdap.settings import RdapConfig
from redaction.policy import Policy, Requester, Tier, default_policy
from replica.store import SqliteStore
from tests.integration.conftest import BASE

Client = TestClient[Any, Any]
MakeClient = Callable[..., Awaitable[Client]]
LE = "law-enforcement"
CRIME = "criminalInvestigationAndDNSAbuse"
AUDIENCE = "https://rdap.registry.example"


def issue(data_dir: Path, tier: str, purposes: tuple[str, ...], **kw: Any) -> tuple[str, str]:
    """Issue a credential straight into the store; (id, token)."""
    now = kw.pop("now", dt.datetime.now(dt.UTC))
    disclosures.set_up(data_dir)
    cred, token = credentials.issue(tier, kw.pop("org", "Example Police"), purposes, now, **kw)
    CredentialStore(data_dir).add(cred)
    return cred.id, token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def get(client: Client, path: str, **kw: Any) -> tuple[int, dict[str, str], Any]:
    async with client.get(path, **kw) as resp:
        return resp.status, dict(resp.headers), orjson.loads(await resp.read())


def registrant_fn(doc: dict[str, Any]) -> str:
    for entity in doc["entities"]:
        if "registrant" in entity["roles"]:
            for prop in entity["vcardArray"][1]:
                if prop[0] == "fn":
                    return str(prop[3])
    raise AssertionError("no registrant")


def log_records(data_dir: Path) -> list[dict[str, Any]]:
    return list(disclosures.records(data_dir))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def connect(
    store: SqliteStore, aiohttp_client: Callable[..., Awaitable[Client]]
) -> Callable[..., Awaitable[Client]]:
    async def make(access: Any, policy: Policy | None = None) -> Client:
        app = make_app(
            Lookup(store, policy or default_policy()),
            RdapConfig(base_url=BASE, port43="whois.registry.example", tos_url=BASE + "terms"),
            access,
        )
        return await aiohttp_client(app)

    return make


@pytest.fixture
async def client(data_dir: Path, connect: MakeClient) -> Client:
    access = build(AuthSettings(data_dir=data_dir), default_policy())
    return await connect(access)


# --- the happy path ----------------------------------------------------------------------


async def test_law_enforcement_sees_the_registrant_and_it_is_logged(
    client: Client, data_dir: Path
) -> None:
    cred_id, token = issue(data_dir, LE, (CRIME,))
    status, headers, doc = await get(client, "/domain/example.org", headers=bearer(token))
    assert status == 200
    assert registrant_fn(doc) == "Dara Ashdown"
    assert headers["Cache-Control"] == "private, no-store"
    [record] = log_records(data_dir)
    assert record["credential"] == cred_id and record["organisation"] == "Example Police"
    assert record["tier"] == LE and record["purpose"] == CRIME and record["issuer"] is None
    assert record["object"] == "domain/example.org"
    assert "Registrant Name" in record["fields"]
    assert "Dara Ashdown" not in json.dumps(record)  # names of fields, never values
    import hashlib

    async with client.get("/domain/example.org", headers=bearer(token)) as resp:
        body = await resp.read()
    second = log_records(data_dir)[1]
    assert second["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert second["prev"] == record["hash"]
    assert disclosures.verify(data_dir).ok


async def test_anonymous_after_authorized_stays_redacted(
    client: Client, data_dir: Path, connect: MakeClient
) -> None:
    _, token = issue(data_dir, LE, (CRIME,))
    fresh = await connect(build(AuthSettings(data_dir=data_dir / "other"), default_policy()))
    async with fresh.get("/domain/example.org") as resp:
        anonymous_only = await resp.read()
    status, _, doc = await get(client, "/domain/example.org", headers=bearer(token))
    assert status == 200 and registrant_fn(doc) == "Dara Ashdown"
    async with client.get("/domain/example.org") as resp:
        after = await resp.read()
        assert resp.headers["Cache-Control"].startswith("public, max-age=")
    assert after == anonymous_only
    assert registrant_fn(orjson.loads(after)) == ""
    # And an anonymous answer cached first is never served to the authorized requester.
    status, _, doc = await get(client, "/domain/example.org", headers=bearer(token))
    assert registrant_fn(doc) == "Dara Ashdown"


async def test_at_risk_registrant_only_for_the_highest_tier(client: Client, data_dir: Path) -> None:
    _, le = issue(data_dir, LE, (CRIME,))
    _, staff = issue(data_dir, "registry-staff", ("dnsTransparency",), org="Registry")
    status, _, doc = await get(client, "/domain/journalist.org", headers=bearer(le))
    assert status == 200 and registrant_fn(doc) == ""
    assert log_records(data_dir) == []  # nothing withheld was shown: nothing to record
    status, headers, doc = await get(client, "/domain/journalist.org", headers=bearer(staff))
    assert status == 200 and registrant_fn(doc) == "Sami Calder"
    assert headers["Cache-Control"] == "private, no-store"
    [record] = log_records(data_dir)
    assert record["tier"] == "registry-staff" and record["object"] == "domain/journalist.org"


async def test_entity_lookup_is_logged(client: Client, data_dir: Path) -> None:
    _, token = issue(data_dir, LE, (CRIME,))
    status, _, _ = await get(client, "/entity/EXORG-1", headers=bearer(token))
    assert status == 200
    [record] = log_records(data_dir)
    assert record["object"] == "entity/EXORG-1" and record["fields"]


async def test_several_purposes_need_one_named(client: Client, data_dir: Path) -> None:
    _, token = issue(data_dir, LE, (CRIME, "legalActions"))
    status, _, doc = await get(client, "/domain/example.org", headers=bearer(token))
    assert status == 400 and doc["errorCode"] == 400
    assert "purpose" in doc["description"][0]
    status, _, doc = await get(
        client, "/domain/example.org?purpose=legalActions", headers=bearer(token)
    )
    assert status == 200 and registrant_fn(doc) == "Dara Ashdown"
    assert log_records(data_dir)[0]["purpose"] == "legalActions"


async def test_purpose_outside_the_credential_is_403(client: Client, data_dir: Path) -> None:
    _, token = issue(data_dir, LE, (CRIME,))
    status, _, doc = await get(
        client, "/domain/example.org?purpose=legalActions", headers=bearer(token)
    )
    assert status == 403 and doc["errorCode"] == 403 and "rdapConformance" in doc
    assert log_records(data_dir) == []


# --- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    ["Basic dXNlcjpwYXNz", "Bearer", "Bearer rdds_unknownunknownunknown", "Bearer eyJ.x.y"],
)
async def test_bad_authorization_is_401_with_challenge(client: Client, header: str) -> None:
    status, headers, doc = await get(
        client, "/domain/example.org", headers={"Authorization": header}
    )
    assert status == 401 and doc["errorCode"] == 401
    assert headers["WWW-Authenticate"] == 'Bearer realm="rdap"'
    secret = header.partition(" ")[2]
    assert not secret or secret not in json.dumps(doc)


async def test_revoked_and_expired_credentials_are_401(client: Client, data_dir: Path) -> None:
    cred_id, token = issue(data_dir, LE, (CRIME,))
    assert (await get(client, "/domain/example.org", headers=bearer(token)))[0] == 200
    CredentialStore(data_dir).revoke(cred_id, dt.datetime.now(dt.UTC))
    status, headers, doc = await get(client, "/domain/example.org", headers=bearer(token))
    assert status == 401 and "revoked" in doc["description"][0]
    assert "WWW-Authenticate" in headers
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=10)
    _, old = issue(data_dir, LE, (CRIME,), now=past, expires=past + dt.timedelta(days=1))
    status, _, doc = await get(client, "/domain/example.org", headers=bearer(old))
    assert status == 401 and "expired" in doc["description"][0]


async def test_unknown_tier_is_403_with_a_clear_message(
    data_dir: Path, connect: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    _, token = issue(data_dir, "csirt", (CRIME,))
    with caplog.at_level(logging.WARNING, logger="rdds.access"):
        client = await connect(build(AuthSettings(data_dir=data_dir), default_policy()))
    assert "tier 'csirt'" in caplog.text  # serve warns at start
    status, _, doc = await get(client, "/domain/example.org", headers=bearer(token))
    assert status == 403 and "'csirt' is not configured" in doc["description"][0]
    # Defined in the policy, the same credential works.
    policy = default_policy()
    tiers = {
        **policy.tiers,
        "csirt": Tier("csirt", 15, {CRIME: frozenset(policy.tiers[LE].granted(CRIME))}),
    }
    other = await connect(
        build(AuthSettings(data_dir=data_dir), Policy(tiers=tiers)), Policy(tiers=tiers)
    )
    status, _, doc = await get(other, "/domain/example.org", headers=bearer(token))
    assert status == 200 and registrant_fn(doc) == "Dara Ashdown"


async def test_server_rereads_the_store_when_it_changes(client: Client, data_dir: Path) -> None:
    assert (await get(client, "/help"))[0] == 200  # server running before the credential exists
    _, token = issue(data_dir, LE, (CRIME,))
    assert (await get(client, "/domain/example.org", headers=bearer(token)))[0] == 200


async def test_corrupt_store_fails_closed_but_anonymous_works(
    client: Client, data_dir: Path
) -> None:
    _, token = issue(data_dir, LE, (CRIME,))
    (data_dir / credentials.FILE).write_text("{ truncated")
    status, _, _ = await get(client, "/domain/example.org", headers=bearer(token))
    assert status == 503
    assert (await get(client, "/domain/example.org"))[0] == 200


def _store_with_bad_record(path: Path) -> None:
    item = {"id": "cred-1", "tier": LE, "organisation": "Example Police", "purposes": [CRIME]}
    item |= {"created": "STORED-VALUE-7f3a", "token_sha256": "0" * 64}
    path.write_text(json.dumps({"version": 1, "credentials": [item]}))


def _store_is_a_directory(path: Path) -> None:
    path.unlink()
    path.mkdir()


@pytest.mark.parametrize("damage", [_store_with_bad_record, _store_is_a_directory])
async def test_unreadable_store_503_names_no_path_and_quotes_nothing(
    client: Client, data_dir: Path, caplog: pytest.LogCaptureFixture, damage: Any
) -> None:
    _, token = issue(data_dir, LE, (CRIME,))
    damage(data_dir / credentials.FILE)
    with caplog.at_level(logging.INFO):
        async with client.get("/domain/example.org", headers=bearer(token)) as resp:
            status, body = resp.status, await resp.text()
    assert status == 503
    doc = json.loads(body)
    assert doc["errorCode"] == 503 and doc["description"] == [
        "The credential store cannot be read; no credential can be checked now."
    ]
    # The answer names no path and quotes nothing stored; the log has the detail.
    for private in (str(data_dir), credentials.FILE, "STORED-VALUE", "Example Police"):
        assert private not in body
    assert str(data_dir / credentials.FILE) in caplog.text
    assert token not in caplog.text


# --- fail closed ---------------------------------------------------------------------------


async def test_unwritable_log_is_503_and_discloses_nothing(client: Client, data_dir: Path) -> None:
    _, token = issue(data_dir, LE, (CRIME,))
    (data_dir / disclosures.LOG).mkdir()  # a directory where the log should be: fails for root too
    async with client.get("/domain/example.org", headers=bearer(token)) as resp:
        body = await resp.read()
        assert resp.status == 503 and resp.headers["Retry-After"]
    assert b"Dara Ashdown" not in body
    # Authorized answers that disclose nothing still work, and so does the public.
    assert (await get(client, "/domain/journalist.org", headers=bearer(token)))[0] == 200
    assert (await get(client, "/domain/example.org"))[0] == 200
    # Once the log is writable again, disclosures resume on an intact chain.
    (data_dir / disclosures.LOG).rmdir()
    assert (await get(client, "/domain/example.org", headers=bearer(token)))[0] == 200
    assert disclosures.verify(data_dir).ok


async def test_unwritable_anchor_is_503(client: Client, data_dir: Path) -> None:
    _, token = issue(data_dir, LE, (CRIME,))
    (data_dir / disclosures.ANCHOR).unlink()
    (data_dir / disclosures.ANCHOR).mkdir()
    status, _, doc = await get(client, "/domain/example.org", headers=bearer(token))
    assert status == 503 and "Dara" not in json.dumps(doc)


async def test_torn_log_tail_fails_closed(client: Client, data_dir: Path) -> None:
    _, token = issue(data_dir, LE, (CRIME,))
    assert (await get(client, "/domain/example.org", headers=bearer(token)))[0] == 200
    with (data_dir / disclosures.LOG).open("ab") as f:
        f.write(b'{"seq":2,"ti')
    assert (await get(client, "/domain/example.org", headers=bearer(token)))[0] == 503


@pytest.mark.parametrize("deleted", [(disclosures.LOG,), (disclosures.LOG, disclosures.ANCHOR)])
async def test_a_deleted_log_is_never_continued(
    client: Client, data_dir: Path, deleted: tuple[str, ...]
) -> None:
    _, token = issue(data_dir, LE, (CRIME,))
    assert (await get(client, "/domain/example.org", headers=bearer(token)))[0] == 200
    for name in deleted:
        (data_dir / name).unlink()
    # GIVEN the log (and its anchor) deleted under a running server WHEN a disclosure is due
    # THEN it is refused, rather than starting a new chain that would verify.
    status, _, doc = await get(client, "/domain/example.org", headers=bearer(token))
    assert status == 503 and "Dara" not in json.dumps(doc)
    assert (await get(client, "/domain/example.org"))[0] == 200  # the public is still served
    assert not disclosures.verify(data_dir).ok


def test_starting_on_a_directory_without_its_anchor_is_logged(
    data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    issue(data_dir, LE, (CRIME,))
    (data_dir / disclosures.ANCHOR).unlink()
    with caplog.at_level(logging.ERROR):
        build(AuthSettings(data_dir=data_dir), default_policy())
    assert "the anchor is missing" in caplog.text
    assert not (data_dir / disclosures.ANCHOR).exists()  # the evidence is left as it is


async def test_concurrent_disclosures_never_fork_the_chain(client: Client, data_dir: Path) -> None:
    _, token = issue(data_dir, LE, (CRIME,))
    paths = ["/domain/example.org", "/entity/EXORG-1", "/domain/consent.org"] * 7
    results = await asyncio.gather(*(get(client, p, headers=bearer(token)) for p in paths))
    assert all(status == 200 for status, _, _ in results)
    verdict = disclosures.verify(data_dir)
    assert verdict.ok, verdict.problem
    assert verdict.count == len(log_records(data_dir)) >= 14


async def test_two_writers_on_one_directory_share_one_chain(data_dir: Path) -> None:
    a = build(AuthSettings(data_dir=data_dir), default_policy())
    b = build(AuthSettings(data_dir=data_dir), default_policy())
    requester = Requester(LE, CRIME, "c", "o")
    for access in (a, b, a, b, b, a):
        await access.record(requester, "domain/example.org", ("Registrant Name",), b"{}")
    verdict = disclosures.verify(data_dir)
    assert verdict.ok and verdict.count == 6


# --- logs never hold tokens ----------------------------------------------------------------


async def test_tokens_never_appear_in_logs(
    client: Client, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _, token = issue(data_dir, LE, (CRIME, "legalActions"))
    revoked_id, revoked = issue(data_dir, LE, (CRIME,))
    CredentialStore(data_dir).revoke(revoked_id, dt.datetime.now(dt.UTC))
    with caplog.at_level(logging.DEBUG):
        await get(client, "/domain/example.org?purpose=legalActions", headers=bearer(token))
        await get(client, "/domain/example.org", headers=bearer(token))
        await get(client, "/domain/example.org?purpose=dnsTransparency", headers=bearer(token))
        await get(client, "/domain/example.org", headers=bearer(revoked))
        (data_dir / disclosures.LOG).rename(data_dir / "moved")
        (data_dir / disclosures.LOG).mkdir()
        await get(client, "/domain/example.org?purpose=legalActions", headers=bearer(token))
    assert caplog.records  # something was logged (the failed write at least)
    for secret in (token, revoked, token[5:], revoked[5:]):
        assert secret not in caplog.text
        for rec in caplog.records:
            assert secret not in rec.getMessage()
    assert_not_stored(data_dir, token)


def assert_not_stored(data_dir: Path, token: str) -> None:
    for path in data_dir.iterdir():
        if path.is_file():
            assert token.encode() not in path.read_bytes()


# --- OpenID Connect ------------------------------------------------------------------------

ISSUER = "https://idp.example"


@pytest.fixture(scope="module")
def signing_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def jwks_hits() -> list[int]:
    return []


@pytest.fixture
async def jwks_url(
    signing_key: ec.EllipticCurvePrivateKey,
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    jwks_hits: list[int],
) -> str:
    """A JWKS served by a loopback aiohttp server (never the internet)."""
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(signing_key.public_key()))
    jwk.update(kid="k1", use="sig", alg="ES256")

    async def keys(request: web.Request) -> web.Response:
        jwks_hits.append(1)
        return web.json_response({"keys": [jwk]})

    app = web.Application()
    app.router.add_get("/jwks.json", keys)
    server = await aiohttp_server(app)
    return str(server.make_url("/jwks.json"))


def mint(key: Any, alg: str = "ES256", kid: str | None = "k1", **claims: Any) -> str:
    now = int(time.time())
    body = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "officer-17",
        "iat": now,
        "exp": now + 300,
        "rdds_tier": LE,
        "org": "Example Police",
        "rdap_allowed_purposes": [CRIME],
    }
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    headers = {"kid": kid} if kid else None
    return jwt.encode(body, key, algorithm=alg, headers=headers)


@pytest.fixture
async def oidc_client(data_dir: Path, jwks_url: str, connect: MakeClient) -> Client:
    issuers = ({"issuer": ISSUER, "audience": AUDIENCE, "jwks": jwks_url, "name": "Example IdP"},)
    access = build(AuthSettings(data_dir=data_dir, oidc_issuers=issuers), default_policy())
    return await connect(access)


async def test_oidc_token_discloses_and_is_logged(
    oidc_client: Client, data_dir: Path, signing_key: ec.EllipticCurvePrivateKey
) -> None:
    token = mint(signing_key)
    status, headers, doc = await get(oidc_client, "/domain/example.org", headers=bearer(token))
    assert status == 200 and registrant_fn(doc) == "Dara Ashdown"
    assert headers["Cache-Control"] == "private, no-store"
    [record] = log_records(data_dir)
    assert record["issuer"] == ISSUER and record["credential"] == "officer-17"
    assert record["organisation"] == "Example Police" and record["purpose"] == CRIME


async def test_help_advertises_farv1(oidc_client: Client, client: Client) -> None:
    status, _, doc = await get(oidc_client, "/help")
    assert status == 200 and "farv1" in doc["rdapConformance"]
    config = doc["farv1_openidcConfiguration"]
    assert config["dntSupported"] is False
    assert config["openidcProviders"] == [{"iss": ISSUER, "name": "Example IdP", "default": True}]
    _, _, plain = await get(client, "/help")
    assert "farv1" not in plain["rdapConformance"] and "farv1_openidcConfiguration" not in plain


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("unknown key", "signature does not verify"),
        ("wrong kid", "not signed by a key"),
        ("wrong audience", "audience"),
        ("expired", "expired"),
        ("wrong issuer", "issuer"),
        ("alg none", "algorithm"),
        ("hs256 with the public key", "algorithm"),
        ("no exp", "not valid"),
        ("tampered", "signature does not verify"),
    ],
)
async def test_bad_oidc_tokens_are_401(
    oidc_client: Client,
    signing_key: ec.EllipticCurvePrivateKey,
    case: str,
    message: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    token = {
        "unknown key": lambda: mint(other),
        "wrong kid": lambda: mint(other, kid="k9"),
        "wrong audience": lambda: mint(signing_key, aud="https://elsewhere.example"),
        "expired": lambda: mint(signing_key, exp=int(time.time()) - 3600),
        "wrong issuer": lambda: mint(signing_key, iss="https://evil.example"),
        "alg none": lambda: mint(None, alg="none"),
        "hs256 with the public key": lambda: mint(b"k" * 32, alg="HS256"),
        "no exp": lambda: mint(signing_key, exp=None),
        "tampered": lambda: _tamper(mint(signing_key)),
    }[case]()
    with caplog.at_level(logging.DEBUG):
        status, headers, doc = await get(oidc_client, "/domain/example.org", headers=bearer(token))
    assert status == 401, doc
    assert message in doc["description"][0]
    assert headers["WWW-Authenticate"] == 'Bearer realm="rdap"'
    assert token not in caplog.text and token not in json.dumps(doc)


def _tamper(token: str) -> str:
    head, body, sig = token.split(".")
    claims = json.loads(jwt.utils.base64url_decode(body))
    claims["rdds_tier"] = "registry-staff"
    forged = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    return f"{head}.{forged}.{sig}"


@pytest.mark.parametrize(
    ("claims", "status"),
    [
        ({"rdap_allowed_purposes": None}, 403),
        ({"rdap_allowed_purposes": ["snooping"]}, 403),
        ({"rdds_tier": None}, 403),
        ({"rdds_tier": "csirt"}, 403),
        ({"rdap_allowed_purposes": [CRIME, "legalActions"]}, 400),
    ],
)
async def test_oidc_tokens_that_grant_nothing_here(
    oidc_client: Client,
    signing_key: ec.EllipticCurvePrivateKey,
    claims: dict[str, Any],
    status: int,
) -> None:
    token = mint(signing_key, **claims)
    got, _, doc = await get(oidc_client, "/domain/example.org", headers=bearer(token))
    assert got == status and doc["errorCode"] == status


async def test_jwks_is_cached(
    oidc_client: Client, signing_key: ec.EllipticCurvePrivateKey, jwks_hits: list[int]
) -> None:
    for _ in range(3):
        assert (await get(oidc_client, "/help", headers=bearer(mint(signing_key))))[0] == 200
    assert len(jwks_hits) == 1  # one fetch for three tokens
    # An unknown key id triggers no refetch storm: at most one per MIN_REFETCH seconds.
    other = ec.generate_private_key(ec.SECP256R1())
    for _ in range(3):
        assert (await get(oidc_client, "/help", headers=bearer(mint(other, kid="k2"))))[0] == 401
    assert len(jwks_hits) == 1


async def test_unreachable_jwks_is_503(
    data_dir: Path, connect: MakeClient, signing_key: ec.EllipticCurvePrivateKey
) -> None:
    issuers = (
        {
            "issuer": ISSUER,
            "audience": AUDIENCE,
            "jwks": "http://127.0.0.1:9/jwks.json",
            "timeout_seconds": "2",
        },
    )
    client = await connect(
        build(AuthSettings(data_dir=data_dir, oidc_issuers=issuers), default_policy())
    )
    status, _, _ = await get(client, "/domain/example.org", headers=bearer(mint(signing_key)))
    assert status == 503


async def test_jwks_from_a_file(
    data_dir: Path, tmp_path: Path, connect: MakeClient, signing_key: ec.EllipticCurvePrivateKey
) -> None:
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(signing_key.public_key()))
    jwk["kid"] = "k1"
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [jwk]}))
    issuers = ({"issuer": ISSUER, "audience": AUDIENCE, "jwks": str(path)},)
    client = await connect(
        build(AuthSettings(data_dir=data_dir, oidc_issuers=issuers), default_policy())
    )
    status, _, doc = await get(client, "/domain/example.org", headers=bearer(mint(signing_key)))
    assert status == 200 and registrant_fn(doc) == "Dara Ashdown"


# --- configuration -------------------------------------------------------------------------


def test_config_file_section_builds_the_access_layer(tmp_path: Path) -> None:
    from rdds import config

    text = f"""
[auth]
data_dir = "{tmp_path / "data"}"

[[auth.oidc_issuers]]
issuer = "{ISSUER}"
audience = "{AUDIENCE}"
jwks = "https://idp.example/jwks.json"
tier_claim = "rdds_tier"
algorithms = ["ES256", "RS256"]
timeout_seconds = 3
"""
    settings = config.parse(text)
    access = build(settings.auth, settings.policy)
    assert access.extensions() == ("farv1",)
    assert access.verifier is not None
    [issuer] = access.verifier.issuers
    assert issuer.algorithms == ("ES256", "RS256") and issuer.timeout_seconds == 3.0
    assert (tmp_path / "data").is_dir()


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"issuer": ISSUER, "audience": AUDIENCE}, "jwks: required"),
        ({"issuer": ISSUER, "audience": AUDIENCE, "jwks": "x", "colour": "red"}, "unknown key"),
        ({"issuer": ISSUER, "audience": AUDIENCE, "jwks": "x", "algorithms": "HS256"}, "HS256"),
        ({"issuer": ISSUER, "audience": AUDIENCE, "jwks": "x", "algorithms": "none"}, "none"),
        ({"issuer": ISSUER, "audience": AUDIENCE, "jwks": "x", "cache_seconds": "-1"}, "positive"),
    ],
)
def test_bad_issuer_settings_are_config_errors(
    tmp_path: Path, entry: dict[str, str], message: str
) -> None:
    from registry.errors import ConfigError

    with pytest.raises(ConfigError, match=message):
        build(AuthSettings(data_dir=tmp_path, oidc_issuers=(entry,)), default_policy())


def test_build_without_a_data_dir_is_a_config_error() -> None:
    from registry.errors import ConfigError

    with pytest.raises(ConfigError):
        build(AuthSettings(), default_policy())

"""The web front-end's routes (aiohttp): the home page, lookups, the contact form and its
static files. Parse -> look up and redact once (the lookup core, anonymous) -> page value
(`web.pages`) -> HTML (`web.render`) -> respond with strict security headers.

The page is a sibling of the RDAP and WHOIS front-ends and imports neither. It is always
anonymous: it renders exactly what the RDAP route gives the public, and authorized access
stays with RDAP, where disclosures are recorded. Every handler answers its own errors as a
friendly page with the right status; nothing here raises to the server.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from core.limits import RateLimiter
from core.lookup import Lookup
from core.network import network_key, truncate_address
from redaction.fields import Field
from redaction.policy import Requester
from registry import names
from registry.errors import BadQuery, NotFound, RddsError, Unavailable
from registry.model import ContactRole
from web import forms, pages
from web import query as wq
from web.relay import Letter, Relay, load_secret
from web.render import RenderContext, Renderer
from web.settings import WebConfig

log = logging.getLogger("rdds.web")

STATIC = Path(__file__).resolve().parent / "static"
#: The only files served under static/ (no directory listing, no path from the request).
STATIC_FILES = {"site.css": "text/css", "icon.svg": "image/svg+xml"}
COOKIE = "rdds_form"
#: A posted form larger than this is refused before it is parsed.
MAX_FORM_BYTES = 32 * 1024

#: Security: no script at all, styles and images from this origin only, no framing, forms
#: post only here, no <base> tricks. No inline style either: every style is in site.css.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class RateLimited(Unavailable):
    """Too many lookups from your network. Please wait a minute and try again."""

    status = 429
    title = "Too Many Requests"


class TooManyMessages(Unavailable):
    """This message cannot be sent now: the limit of messages has been reached. Please try
    again tomorrow."""

    status = 429
    title = "Too Many Requests"


class NoContactForm(NotFound):
    """The contact form is not available on this service."""


class NotReachable(NotFound):
    """There is no contact to write to for this domain and role."""


class AlreadySent(BadQuery):
    """This message has already been sent."""

    status = 409
    title = "Conflict"


class MethodNotAllowed(RddsError):
    """This page does not accept that method."""

    status = 405
    title = "Method Not Allowed"

    def __init__(self, allowed: tuple[str, ...]) -> None:
        super().__init__()
        self.allowed = allowed


class CrossSite(forms.BadToken):
    """This form must be sent from this service's own page."""


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class Site:
    """The web page over one lookup core: its routes, limits and contact relay."""

    def __init__(
        self,
        lookup: Lookup,
        config: WebConfig,
        *,
        relay: Relay | None = None,
        secret: bytes | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.lookup = lookup
        self.config = config
        self.relay = relay
        self._clock = clock
        self._wall = wall
        s = config.settings
        self._keys = forms.Keys.derive(secret or secrets.token_bytes(32))
        self._static = {name: (STATIC / name).read_bytes() for name in STATIC_FILES}
        version = hashlib.sha256(b"".join(self._static.values())).hexdigest()[:12]
        self._ctx = RenderContext(
            site_name=s.site_name,
            prefix=config.prefix,
            rdap_base_url=config.base_url,
            tos_url=config.tos_url,
            form_enabled=relay is not None,
            static_version=version,
        )
        self._renderer = Renderer(self._ctx)
        self._lookups = _limiter(s.lookups_per_minute, 60)
        self._by_network = _limiter(s.messages_per_network_per_hour, 3600)
        self._by_sender = _limiter(s.messages_per_sender_per_day, 86400)
        self._by_recipient = _limiter(s.messages_per_recipient_per_day, 86400)
        #: MACs of tokens already used, until they expire anyway (single use).
        self._used: collections.OrderedDict[str, float] = collections.OrderedDict()
        self._origin = _origin(config.base_url)
        self._form_url = config.contact_form_template()
        if self._form_url is not None:
            self._form_url = self._form_url.split("?", 1)[0]

    # --- wiring ----------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        """The page's routes under its prefix (any method: each answers its own 405)."""
        p = self.config.prefix
        out = [
            web.route("*", p, self._guard(self.home)),
            web.route("*", p + "lookup", self._guard(self.lookup_page)),
            web.route("*", p + "contact", self._guard(self.contact)),
            web.route("*", p + "static/{name}", self._guard(self.static)),
        ]
        if p != "/":
            out.append(web.route("*", p.rstrip("/"), self._guard(self.to_prefix)))
        return out

    def _guard(self, handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            try:
                response = await handler(request)
            except RddsError as exc:
                response = await self._error(request, exc)
            except web.HTTPException as exc:
                err = RddsError(exc.reason)
                err.status, err.title = exc.status, exc.reason
                response = await self._error(request, err)
            except (asyncio.CancelledError, KeyboardInterrupt):
                raise
            except Exception:
                log.exception("internal error answering a web page request")
                response = await self._error(request, RddsError())
            for key, value in SECURITY_HEADERS.items():
                response.headers[key] = value
            response.headers.setdefault("Cache-Control", "no-store")
            return response

        return guarded

    # --- responses -------------------------------------------------------------------------

    def _html(self, template: str, code: int = 200, **values: Any) -> web.Response:
        body = self._renderer.page(template, **values)
        return web.Response(status=code, text=body, content_type="text/html", charset="utf-8")

    async def _tlds(self) -> tuple[pages.TldLine, ...]:
        try:
            return pages.tld_lines(await self.lookup.tlds())
        except RddsError:
            return ()

    async def _error(self, request: web.Request, exc: RddsError) -> web.Response:
        message = exc.message
        if exc.status >= 500 and not isinstance(exc, Unavailable):
            message = "Something went wrong on our side. Please try again later."
        response = self._html(
            "error.html",
            exc.status,
            status=exc.status,
            title=_ERROR_TITLES.get(exc.status, exc.title),
            message=message,
            q=request.query.get("q", "") if request.method in ("GET", "HEAD") else "",
            not_found=exc.status == 404
            and isinstance(exc, NotFound)
            and not isinstance(exc, NoContactForm | NotReachable),
            tlds=await self._tlds(),
        )
        if exc.status in (429, 503):
            response.headers["Retry-After"] = "60" if exc.status == 429 else "5"
        if isinstance(exc, MethodNotAllowed):
            response.headers["Allow"] = ", ".join(exc.allowed)
        return response

    @staticmethod
    def _method(request: web.Request, *allowed: str) -> None:
        if request.method not in ("GET", "HEAD", *allowed):
            raise MethodNotAllowed(("GET", "HEAD", *allowed))

    # --- pages -----------------------------------------------------------------------------

    async def to_prefix(self, request: web.Request) -> web.StreamResponse:
        """`/prefix` without its slash: the home page is `/prefix/`."""
        self._method(request)
        return web.Response(status=308, headers={"Location": self.config.prefix})

    async def home(self, request: web.Request) -> web.StreamResponse:
        """The search box and what this service is."""
        self._method(request)
        return self._html("home.html", tlds=await self._tlds())

    async def static(self, request: web.Request) -> web.StreamResponse:
        """site.css and the icon: served by the app itself, nothing from elsewhere."""
        self._method(request)
        name = request.match_info["name"]
        media = STATIC_FILES.get(name)
        if media is None:
            raise NotFound("There is no such file.")
        response = web.Response(body=self._static[name], content_type=media)
        if media.startswith("text/"):
            response.charset = "utf-8"
        response.headers["Cache-Control"] = "public, max-age=86400"
        return response

    def _limit_lookup(self, request: web.Request) -> None:
        if self._lookups is not None and not self._lookups.allow(
            network_key(request.remote or ""), self._clock()
        ):
            raise RateLimited()

    async def lookup_page(self, request: web.Request) -> web.StreamResponse:
        """One lookup: a domain, a nameserver, a registrar, or the nameservers of an address."""
        self._method(request)
        text = request.query.get("q", "")
        self._limit_lookup(request)
        query = wq.parse(text)
        anonymous = Requester.anonymous()
        base = self.config.base_url
        match query:
            case wq.NameLookup(name=name):
                if wq.is_domain(query, set(await self.lookup.tlds())):
                    rd = await self.lookup.domain(name, anonymous)
                    page = pages.domain(rd, base, self._form_url)
                    return self._html("domain.html", p=page, q=text)
                host = await self.lookup.nameserver(name)
                return self._html("nameserver.html", p=pages.nameserver(host, base), q=text)
            case wq.AddressLookup(ip=ip):
                found = await self.lookup.nameservers_by_ip(ip)
                number = _page_number(request.query.get("page", "1"))
                result = pages.result_list(
                    ip, found, number, limit=pages.SEARCH_LIMIT, watermark=self.lookup.watermark
                )
                return self._html("results.html", p=result, q=text)
            case wq.RegistrarLookup(key=key):
                reg = await self.lookup.registrar(key)
                page_value = pages.registrar(reg.registrar, reg.info, base)
                return self._html("registrar.html", p=page_value, q=text)
        raise AssertionError(query)  # pragma: no cover

    # --- the contact form ------------------------------------------------------------------

    def _target(self, domain_text: str, role_text: str) -> tuple[names.Name, ContactRole]:
        """The domain and role a form URL names (checked before anything is looked up)."""
        if self.relay is None:
            raise NoContactForm()
        try:
            name = names.from_text(domain_text)
        except RddsError:
            raise NotReachable() from None
        return name, forms.role(role_text)

    async def _recipient(self, name: names.Name, role: ContactRole) -> str:
        """The address of the contact a form writes to, if the public answer withholds it."""
        rd = await self.lookup.domain(name, Requester.anonymous())
        for view in rd.contacts:
            # Reachable exactly where the public answer withholds the address (the engine's
            # decision): a published address needs no relay, an omitted contact none either.
            if view.role is role and not view.omitted and Field.EMAIL in view.withheld:
                stored = view.contact.email
                if forms.is_address(stored):
                    return forms.address(stored)
        raise NotReachable()

    def _form(
        self,
        request: web.Request,
        name: names.Name,
        role: ContactRole,
        status: int = 200,
        error: str = "",
        values: dict[str, str] | None = None,
    ) -> web.Response:
        cookie = request.cookies.get(COOKIE)
        nonce = cookie if forms.nonce_ok(cookie) else secrets.token_urlsafe(18)
        form_id = secrets.token_urlsafe(18)
        token = forms.issue(self._keys, name.ldh, role, nonce, self._wall(), form_id)
        s = self.config.settings
        response = self._html(
            "contact.html",
            status,
            name=pages.Name.of(name.ldh),
            role=forms.role_word(role),
            title=pages.contact_title(role),
            token=token,
            error=error,
            values=values or {"sender": "", "subject": "", "message": ""},
            max_subject=s.max_subject_chars,
            max_message=s.max_message_chars,
            per_sender=s.messages_per_sender_per_day,
        )
        response.set_cookie(
            COOKIE,
            nonce,
            max_age=s.form_max_age_seconds,
            path=self.config.prefix + "contact",
            httponly=True,
            samesite="Strict",
            secure=self.config.base_url.startswith("https://"),
        )
        return response

    async def contact(self, request: web.Request) -> web.StreamResponse:
        """GET: the form for one domain and role. POST: relay the message."""
        self._method(request, "POST")
        if request.method == "POST":
            return await self._post(request)
        self._limit_lookup(request)
        name, role = self._target(request.query.get("domain", ""), request.query.get("role", ""))
        await self._recipient(name, role)  # NotReachable: no form for this domain and role
        return self._form(request, name, role)

    def _check_origin(self, request: web.Request) -> None:
        # Security: a browser names the site a form was posted from; another site's is refused.
        # Under `Referrer-Policy: no-referrer` browsers send `Origin: null` for our own forms,
        # so "null" proves nothing either way: Sec-Fetch-Site and the SameSite=Strict cookie
        # bound into the token decide.
        origin = request.headers.get("Origin")
        if origin is not None and origin != "null" and origin.lower() != self._origin:
            raise CrossSite()
        if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
            raise CrossSite()

    def _use(self, token: forms.Token) -> None:
        now = self._wall()
        while self._used and next(iter(self._used.values())) < now:
            self._used.popitem(last=False)
        if token.mac in self._used:
            raise AlreadySent()
        self._used[token.mac] = token.expires

    async def _post(self, request: web.Request) -> web.StreamResponse:
        if self.relay is None:
            raise NoContactForm()
        if request.content_length is not None and request.content_length > MAX_FORM_BYTES:
            raise forms.MessageTooLong()
        self._check_origin(request)
        data = await request.post()

        def text(key: str) -> str:
            value = data.get(key, "")
            return value if isinstance(value, str) else ""

        name, role = self._target(text("domain"), text("role"))
        values = {k: text(k) for k in ("sender", "subject", "message")}
        s = self.config.settings
        try:
            # CSRF and form age first: nothing else is looked at for a forged post.
            token = forms.verify(
                self._keys,
                text("token"),
                domain=name.ldh,
                role_value=role,
                cookie_nonce=request.cookies.get(COOKIE),
                now=self._wall(),
                min_age=s.form_min_seconds,
                max_age=s.form_max_age_seconds,
            )
        except (forms.FormExpired, forms.FormTooFast) as exc:
            await self._recipient(name, role)
            return self._form(request, name, role, 400, exc.message, values)
        to = await self._recipient(name, role)
        try:
            sender = forms.address(values["sender"])
            subject = forms.subject(values["subject"], s.max_subject_chars)
            body = forms.message(values["message"], s.max_message_chars)
        except BadQuery as exc:
            return self._form(request, name, role, exc.status, exc.message, values)
        self._use(token)
        now = self._clock()
        # Limits: per network, per sender address, per recipient (the contact, whatever the
        # domain): each counts every message that reaches this point.
        for limiter, key in (
            (self._by_network, network_key(request.remote or "")),
            (self._by_sender, sender.lower()),
            (self._by_recipient, to.lower()),
        ):
            if limiter is not None and not limiter.allow(key, now):
                raise TooManyMessages()
        letter = Letter(
            to=to,
            reply_to=sender,
            subject=subject,
            body=body,
            domain=name.unicode,
            role_title=pages.contact_title(role),
        )
        await self.relay.send(
            letter,
            client=truncate_address(request.remote),
            domain=name.ldh,
            role=role.value,
            sender_hash=forms.sender_hash(self._keys, sender),
        )
        # The answer names the domain and role only: never the recipient's address.
        return self._html(
            "sent.html", name=pages.Name.of(name.ldh), title=pages.contact_title(role)
        )


_ERROR_TITLES = {
    400: "That search could not be understood",
    403: "This form could not be verified",
    404: "No match",
    405: "Not allowed here",
    409: "Already sent",
    413: "Too long",
    429: "Please slow down",
    500: "Something went wrong",
    502: "Could not be delivered",
    503: "Temporarily unavailable",
}


def _limiter(count: int, seconds: float) -> RateLimiter | None:
    """`count` per `seconds`, all at once if need be; None when 0 (no limit)."""
    if count <= 0:
        return None
    return RateLimiter(rate=count / seconds, burst=count)


def _page_number(text: str) -> int:
    return int(text) if text.isascii() and text.isdigit() and len(text) < 6 else 1


def build(lookup: Lookup, config: WebConfig) -> Site:
    """The web page for a resolved configuration (with the contact relay when configured)."""
    relay = None
    if config.form_enabled and config.relay_log is not None:
        relay = Relay(config.settings, config.relay_log, config.settings.site_name)
    return Site(lookup, config, relay=relay, secret=load_secret(config))

"""The RDAP application's typed state (aiohttp app keys), the answer value, and the render
context built per request. Shared by the handler and the error middleware.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from access.protocol import Access
from core.lookup import Lookup
from rdap import render
from rdap.answers import AnswerCache
from rdap.settings import RdapConfig


@dataclass(frozen=True, slots=True)
class Answer:
    """A rendered answer before it is sent."""

    status: int
    body: bytes
    #: Names of withheld fields shown to this requester (disclosure log), and the object.
    disclosed: tuple[str, ...] = ()
    object_ref: str = ""
    #: Extra response headers that belong to this answer (the .coop flags), kept with the
    #: body so a cached answer is sent with the same headers.
    headers: tuple[tuple[str, str], ...] = ()


LOOKUP = web.AppKey("lookup", Lookup)
CONFIG = web.AppKey("rdap_config", RdapConfig)
ACCESS = web.AppKey("access", Access)
CACHE = web.AppKey("cache", AnswerCache)
#: The stand-in for the request URL in cached answers (`rdap.answers`).
URL_MARKER = web.AppKey("url_marker", str)


async def render_context(request: web.Request) -> render.RenderContext:
    """The render context for one request: public base URL, request URL, notices."""
    return await app_context(request.app, request.raw_path)


async def app_context(app: web.Application, raw_path: str) -> render.RenderContext:
    """The render context for a request to `app` whose target was `raw_path` (as received)."""
    cfg = app[CONFIG]
    # The one place "is this an ICANN deployment" is decided: any served TLD under the profile.
    icann = await app[LOOKUP].icann_deployment()
    # The request URL as received, on the configured public base (never guessed from Host).
    request_url = cfg.base_url.rstrip("/") + raw_path
    return render.RenderContext(
        base_url=cfg.base_url,
        request_url=request_url,
        port43=cfg.port43,
        tos_url=cfg.tos_url,
        icann_deployment=icann,
    )

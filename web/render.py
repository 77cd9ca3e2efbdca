"""HTML rendering through Jinja2 with autoescaping: page values -> HTML text. No I/O after
the templates are loaded (once, from the package).

Every value reaches the HTML through Jinja2's autoescape (`select_autoescape` is not used:
every template here is HTML, so escaping is always on), and undefined names are errors, so
a template cannot silently print something it was not given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import jinja2


@dataclass(frozen=True, slots=True)
class RenderContext:
    """What every page needs besides its own value: fixed per deployment."""

    site_name: str
    prefix: str  # "/" or "/path/": the page's own URLs are path-absolute under it
    rdap_base_url: str
    tos_url: str = ""
    form_enabled: bool = False
    tlds: tuple[Any, ...] = field(default_factory=tuple)
    static_version: str = ""

    def path(self, rest: str = "") -> str:
        """A path under the page's prefix."""
        return self.prefix + rest

    def static(self, name: str) -> str:
        """A static file's path, versioned so browsers refetch after an upgrade."""
        suffix = f"?v={self.static_version}" if self.static_version else ""
        return f"{self.prefix}static/{name}{suffix}"


def environment() -> jinja2.Environment:
    """The template environment: package templates, autoescape always on, strict names."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("web", "templates"),
        autoescape=True,  # security: every value is HTML-escaped unless a template says not
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


class Renderer:
    """Renders named templates with the deployment's context."""

    def __init__(self, ctx: RenderContext, env: jinja2.Environment | None = None) -> None:
        self.ctx = ctx
        self._env = env or environment()

    def page(self, template: str, **values: Any) -> str:
        """One page as HTML text."""
        return self._env.get_template(template).render(ctx=self.ctx, **values)

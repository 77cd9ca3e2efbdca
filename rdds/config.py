"""Configuration: one TOML file, `RDDS_*` environment variables, then command-line flags.
Part of the composition root: each layer owns its settings type; this module composes them.

The same file carries the service settings (`[server]`, `[rdap]`, `[whois]`, `[auth]`,
`[web]`, `[metrics]`, `[health]`, `[log]`, `[search]`) and the privacy policy (`[default]`,
`[tld.NAME]`, `[tiers.NAME]`, see `redaction.policy`).
Unknown keys are errors, reported with the key's path.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from access.settings import AuthSettings
from core import network
from core.health import HealthSettings
from core.logs import LogFormat, LogSettings
from core.metrics import MetricsSettings
from core.search import SearchSettings
from rdap import observe
from rdap.settings import MAX_AGE_LIMIT, RdapSettings, TierRate
from redaction import policy as policy_mod
from redaction.policy import Policy
from registry.errors import ConfigError
from replica import open as replica_open
from replica import postgres
from web.settings import WebConfig, WebSettings
from web.settings import resolve as resolve_web
from whois43.settings import WhoisSettings


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything `rdds serve` needs."""

    host: str = "127.0.0.1"
    #: A SQLite replica file, or a PostgreSQL URL (`replica.open.parse`).
    replica: Path | str | None = None
    demo: bool = False
    demo_domains: int = 2_000
    #: Read a replica file's usable stored answers into the OS page cache at start
    #: (`replica.readahead`: skipped when the file exceeds half the memory available).
    read_ahead: bool = True
    rdap: RdapSettings = field(default_factory=RdapSettings)
    whois: WhoisSettings = field(default_factory=WhoisSettings)
    auth: AuthSettings = field(default_factory=AuthSettings)
    web: WebSettings = field(default_factory=WebSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    health: HealthSettings = field(default_factory=HealthSettings)
    log: LogSettings = field(default_factory=LogSettings)
    search: SearchSettings = field(default_factory=SearchSettings)
    #: Proxies (CIDR) whose X-Forwarded-For names the client; nobody by default.
    trusted_proxies: tuple[str, ...] = ()
    policy: Policy = field(default_factory=policy_mod.default_policy)

    @property
    def access_database(self) -> str | None:
        """Where credentials and the disclosure log live when they are shared: `auth.database`,
        else the replica's URL when the replica is PostgreSQL; None: the data directory."""
        if self.auth.database:
            return self.auth.database
        if isinstance(self.replica, str) and postgres.is_url(self.replica):
            return self.replica
        return None

    @property
    def base_url(self) -> str:
        """The public base URL, ending with "/"."""
        if self.rdap.base_url:
            return (
                self.rdap.base_url if self.rdap.base_url.endswith("/") else self.rdap.base_url + "/"
            )
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.rdap.port}/"

    @property
    def port43(self) -> str:
        """The WHOIS host name advertised in RDAP answers."""
        return self.rdap.port43 or (urlsplit(self.base_url).hostname or self.host)


#: TCP port numbers (0: the system picks a free one).
PORTS = range(0, 65536)

_POLICY_KEYS = {"default", "tld", "tiers"}
#: Sections owned by a layer's settings type (each validated by `_section`).
_SECTIONS: dict[str, Any] = {
    "rdap": RdapSettings,
    "whois": WhoisSettings,
    "auth": AuthSettings,
    "web": WebSettings,
    "metrics": MetricsSettings,
    "health": HealthSettings,
    "log": LogSettings,
    "search": SearchSettings,
}
_TOP = {"server"} | set(_SECTIONS) | _POLICY_KEYS


def _section(cls: Any, data: Mapping[str, Any], where: str, source: str) -> Any:
    known = {f.name: f for f in fields(cls)}
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            raise ConfigError(
                f"{source}: {where}.{key}: unknown key (allowed: {', '.join(sorted(known))})"
            )
        default = getattr(cls(), key)
        values[key] = _coerce(value, default, f"{where}.{key}", source)
    return cls(**values)


def _coerce(value: Any, default: Any, where: str, source: str) -> Any:
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{source}: {where}: expected true or false")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f"{source}: {where}: expected a non-negative integer")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ConfigError(f"{source}: {where}: expected a positive number")
        return float(value)
    if isinstance(default, str):
        if not isinstance(value, str):
            raise ConfigError(f"{source}: {where}: expected a string")
        return value
    if isinstance(default, tuple):
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise ConfigError(f"{source}: {where}: expected an array of tables")
        return tuple(value)
    if default is None or isinstance(default, Path):
        if not isinstance(value, str):
            raise ConfigError(f"{source}: {where}: expected a path")
        return Path(value)
    raise ConfigError(f"{source}: {where}: unsupported value")  # pragma: no cover


def parse_port(text: str, where: str) -> int:
    """A port number given as text (an environment variable, a flag); ConfigError otherwise."""
    try:
        port = int(text.strip())
    except ValueError:
        raise ConfigError(f"{where}: {text!r} is not a port number (0-65535)") from None
    return check_port(port, where)


def check_port(port: int, where: str) -> int:
    """A port within 0-65535; ConfigError naming `where` otherwise."""
    if port not in PORTS:
        raise ConfigError(f"{where}: {port} is not a port number (0-65535)")
    return port


def load_file(path: Path) -> Settings:
    """Read a config file; ConfigError names the file, the key and the problem."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{source}: not UTF-8 text") from None
    return parse(text, source)


def parse(text: str, source: str = "config") -> Settings:
    """Parse config text (see the module docstring)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    for key in data:
        if key not in _TOP:
            raise ConfigError(f"{source}: {key}: unknown key (allowed: {', '.join(sorted(_TOP))})")
    settings = Settings()
    server = data.get("server", {})
    if not isinstance(server, dict):
        raise ConfigError(f"{source}: server: expected a table")
    allowed_server = {"host", "replica", "demo_domains", "trusted_proxies", "read_ahead"}
    for key in server:
        if key not in allowed_server:
            allowed = ", ".join(sorted(allowed_server))
            raise ConfigError(f"{source}: server.{key}: unknown key (allowed: {allowed})")
    if "host" in server:
        settings = replace(settings, host=_coerce(server["host"], "", "server.host", source))
    if "replica" in server:
        settings = replace(
            settings,
            # A string first: through a Path, "postgresql://h/db" would lose a slash.
            replica=replica_open.parse(_coerce(server["replica"], "", "server.replica", source)),
        )
    if "demo_domains" in server:
        settings = replace(
            settings, demo_domains=_coerce(server["demo_domains"], 0, "server.demo_domains", source)
        )
    if "read_ahead" in server:
        settings = replace(
            settings, read_ahead=_coerce(server["read_ahead"], True, "server.read_ahead", source)
        )
    if "trusted_proxies" in server:
        proxies = server["trusted_proxies"]
        if not isinstance(proxies, list) or not all(isinstance(p, str) for p in proxies):
            raise ConfigError(f"{source}: server.trusted_proxies: expected an array of strings")
        settings = replace(settings, trusted_proxies=tuple(proxies))
    for name, cls in _SECTIONS.items():
        if name in data:
            if not isinstance(data[name], dict):
                raise ConfigError(f"{source}: {name}: expected a table")
            body = dict(data[name])
            if name == "rdap" and "tier_rates" in body:
                raise ConfigError(f"{source}: rdap.tier_rates: unknown key (use [rdap.rate.TIER])")
            rates = _tier_rates(body.pop("rate", {}), source) if name == "rdap" else ()
            section = _section(cls, body, name, source)
            if rates:
                section = replace(section, tier_rates=rates)
            if isinstance(section, RdapSettings | WhoisSettings | MetricsSettings):
                check_port(section.port, f"{source}: {name}.port")
            if isinstance(section, RdapSettings) and not 0 <= section.max_age <= MAX_AGE_LIMIT:
                raise ConfigError(f"{source}: rdap.max_age: must be 0 to {MAX_AGE_LIMIT} seconds")
            if isinstance(section, SearchSettings):
                for key, reason in section.problems():
                    raise ConfigError(f"{source}: search.{key}: {reason}")
            settings = replace(settings, **{name: section})
    policy_text = {k: v for k, v in data.items() if k in _POLICY_KEYS}
    if policy_text:
        settings = replace(settings, policy=policy_mod.from_mapping(policy_text, source))
    check(settings, source)
    return settings


def _tier_rates(data: Any, source: str) -> tuple[TierRate, ...]:
    """`[rdap.rate.TIER]` tables: an authorized tier's own rate budgets."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: rdap.rate: expected a table of tiers")
    rates: list[TierRate] = []
    for tier, body in data.items():
        where = f"rdap.rate.{tier}"
        if not isinstance(body, dict):
            raise ConfigError(f"{source}: {where}: expected a table")
        if "name" in body:
            raise ConfigError(f"{source}: {where}.name: unknown key (the table's name is the tier)")
        rates.append(replace(_section(TierRate, body, where, source), name=tier))
    return tuple(rates)


def _check_rdap(rdap: RdapSettings, source: str) -> None:
    if not 1 <= rdap.ipv4_prefix <= 32:
        raise ConfigError(f"{source}: rdap.ipv4_prefix: expected 1-32")
    if not 1 <= rdap.ipv6_prefix <= 128:
        raise ConfigError(f"{source}: rdap.ipv6_prefix: expected 1-128")
    for where, value in (
        ("rate_burst", rdap.rate_burst),
        ("search_rate_burst", rdap.search_rate_burst),
        ("max_connections", rdap.max_connections),
        ("max_per_address", rdap.max_per_address),
    ):
        if value < 1:
            raise ConfigError(f"{source}: rdap.{where}: expected a positive integer")


def check(settings: Settings, source: str) -> None:
    """Cross-field checks the section types cannot make alone; ConfigError names the key."""
    try:
        network.parse_networks(settings.trusted_proxies)
    except ValueError as exc:
        raise ConfigError(f"{source}: server.trusted_proxies: {exc}") from None
    if settings.auth.database and not postgres.is_url(settings.auth.database):
        raise ConfigError(f"{source}: auth.database: expected a postgresql:// URL")
    problem = observe.check_health_path(settings.rdap.health_path)
    if problem is not None:
        raise ConfigError(f"{source}: rdap.health_path: {problem}")
    if settings.log.format not in set(LogFormat):
        raise ConfigError(f'{source}: log.format: expected "text" or "json"')
    for rate in settings.rdap.tier_rates:
        if settings.policy.tier(rate.name) is None:
            tiers = ", ".join(sorted(settings.policy.tiers)) or "none"
            raise ConfigError(
                f"{source}: rdap.rate.{rate.name}: not a tier of the policy (tiers: {tiers})"
            )
    _check_rdap(settings.rdap, source)


def apply_env(settings: Settings, env: Mapping[str, str] | None = None) -> Settings:
    """Apply `RDDS_*` environment variables (flags applied afterwards win)."""
    env = os.environ if env is None else env
    rdap, whois, auth, web = settings.rdap, settings.whois, settings.auth, settings.web
    if "RDDS_HOST" in env:
        settings = replace(settings, host=env["RDDS_HOST"])
    if "RDDS_REPLICA" in env:
        settings = replace(settings, replica=replica_open.parse(env["RDDS_REPLICA"]))
    if "RDDS_RDAP_PORT" in env:
        rdap = replace(rdap, port=parse_port(env["RDDS_RDAP_PORT"], "environment: RDDS_RDAP_PORT"))
    if "RDDS_BASE_URL" in env:
        rdap = replace(rdap, base_url=env["RDDS_BASE_URL"])
    if "RDDS_WHOIS_PORT" in env:
        port = parse_port(env["RDDS_WHOIS_PORT"], "environment: RDDS_WHOIS_PORT")
        whois = replace(whois, port=port)
    if "RDDS_DATA_DIR" in env:
        auth = replace(auth, data_dir=Path(env["RDDS_DATA_DIR"]))
    if "RDDS_AUTH_DATABASE" in env:
        auth = replace(auth, database=env["RDDS_AUTH_DATABASE"])
    if "RDDS_SMTP_PASSWORD" in env:
        # A secret is better kept out of the configuration file.
        web = replace(web, smtp_password=env["RDDS_SMTP_PASSWORD"])
    if "RDDS_METRICS_PORT" in env:
        port = parse_port(env["RDDS_METRICS_PORT"], "environment: RDDS_METRICS_PORT")
        settings = replace(settings, metrics=replace(settings.metrics, port=port))
    if "RDDS_LOG_FORMAT" in env:
        settings = replace(settings, log=LogSettings(format=env["RDDS_LOG_FORMAT"]))
    settings = replace(settings, rdap=rdap, whois=whois, auth=auth, web=web)
    check(settings, "environment")
    return settings


def load_policy(path: Path | None) -> Policy:
    """The privacy policy of a configuration file (None: the built-in default policy)."""
    return load_file(path).policy if path is not None else policy_mod.default_policy()


# --- the web page and its contact form ----------------------------------------------------


def web_config(settings: Settings) -> WebConfig:
    """The web page's resolved configuration (ConfigError for a bad `[web]` section)."""
    return resolve_web(
        settings.web, settings.base_url, settings.auth.data_dir, settings.rdap.tos_url
    )


def with_contact_form(settings: Settings) -> Settings:
    """Point withheld emails at the web contact form when it is on.

    RFC 9537 replacement values (RDAP) and WHOIS's email line then name the form's URL for
    the domain and role. Only sections still on the built-in `email_contact_form` (the
    registrar's URL) change: an operator's own setting wins.
    """
    template = web_config(settings).contact_form_template() if settings.web.enabled else None
    if template is None:
        return settings
    builtin = policy_mod.TldPolicy().email_contact_form
    policy = settings.policy

    def point(rules: policy_mod.TldPolicy) -> policy_mod.TldPolicy:
        return (
            replace(rules, email_contact_form=template)
            if rules.email_contact_form == builtin
            else rules
        )

    policy = replace(
        policy,
        default=point(policy.default),
        sections={name: point(rules) for name, rules in policy.sections.items()},
    )
    return replace(settings, policy=policy)

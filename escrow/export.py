"""The demo registry as RFC 8909/9022 escrow deposits (`rdds demo --format rde`).

Streams `replica.demo.generate` batches into one FULL per TLD (ICANN file names), writing the
header last since its counts are only known at the end, then one DIFF per TLD with deletes,
changed snapshots and a new domain. Memory stays flat: a batch at a time plus a small,
bounded sample of objects for the DIFFs. Importing the FULLs reproduces `replica.demo.write`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import TextIO

from escrow import rde
from registry import names
from registry.model import Contact, ContactRole, Domain, Host, PostalInfo, Registrar, Tld
from replica import demo, schema

#: Objects per TLD that the DIFF deletes and changes (bounded: memory stays flat).
DIFF_SAMPLE = 40
_SAMPLE_EVERY = 97

_NAMESPACES = (
    ("rde", rde.RDE),
    ("rdeHeader", rde.HEADER),
    ("rdeDomain", rde.DOMAIN),
    ("rdeHost", rde.HOST),
    ("rdeContact", rde.CONTACT),
    ("rdeRegistrar", rde.REGISTRAR),
    ("rdeEppParams", rde.EPP_PARAMS),
    ("domain", rde.EPP_DOMAIN),
    ("contact", rde.EPP_CONTACT),
    ("secDNS", rde.SECDNS),
    ("rgp", rde.RGP),
    ("epp", rde.EPP),
    ("rddsExt", rde.EXT),
)
_MENU = (rde.HEADER, rde.DOMAIN, rde.HOST, rde.CONTACT, rde.REGISTRAR, rde.EPP_PARAMS, rde.EXT)


def _e(text: str) -> str:
    if "&" in text or "<" in text or ">" in text or '"' in text:
        text = (
            text.replace("&", "&amp;")
            .replace("<", "&lt;")
            .replace(">", "&gt;")
            .replace('"', "&quot;")
        )
    return text


def _t(value: dt.datetime) -> str:
    return schema.format_time(value)


def _b(value: bool) -> str:
    return "true" if value else "false"


def domain_xml(d: Domain) -> str:
    """One <rdeDomain:domain> (RFC 9022 §5.1.1) with the rddsExt facts."""
    p = ["<rdeDomain:domain>", f"<rdeDomain:name>{d.name}</rdeDomain:name>"]
    p.append(f"<rdeDomain:roid>{_e(d.roid)}</rdeDomain:roid>")
    if d.unicode_name:
        p.append(f"<rdeDomain:uName>{_e(d.unicode_name)}</rdeDomain:uName>")
    if d.idn_table:
        p.append(f"<rdeDomain:idnTableId>{_e(d.idn_table)}</rdeDomain:idnTableId>")
    p.extend(f'<rdeDomain:status s="{_e(s)}"/>' for s in d.statuses)
    p.extend(f'<rgp:rgpStatus s="{_e(s)}"/>' for s in d.rgp_statuses)
    if d.registrant:
        p.append(f"<rdeDomain:registrant>{_e(d.registrant)}</rdeDomain:registrant>")
    for role, handle in d.contacts:
        p.append(f'<rdeDomain:contact type="{_ROLE[role]}">{_e(handle)}</rdeDomain:contact>')
    if d.nameservers:
        p.append("<rdeDomain:ns>")
        p.extend(f"<domain:hostObj>{ns}</domain:hostObj>" for ns in d.nameservers)
        p.append("</rdeDomain:ns>")
    p.append(f"<rdeDomain:clID>{_e(d.registrar)}</rdeDomain:clID>")
    p.append(f"<rdeDomain:crRr>{_e(d.registrar)}</rdeDomain:crRr>")
    p.append(f"<rdeDomain:crDate>{_t(d.created)}</rdeDomain:crDate>")
    if d.expires:
        p.append(f"<rdeDomain:exDate>{_t(d.expires)}</rdeDomain:exDate>")
    if d.updated:
        p.append(f"<rdeDomain:upDate>{_t(d.updated)}</rdeDomain:upDate>")
    if d.ds_data:
        p.append("<rdeDomain:secDNS>")
        for s in d.ds_data:
            p.append(
                f"<secDNS:dsData><secDNS:keyTag>{s.key_tag}</secDNS:keyTag>"
                f"<secDNS:alg>{s.algorithm}</secDNS:alg>"
                f"<secDNS:digestType>{s.digest_type}</secDNS:digestType>"
                f"<secDNS:digest>{_e(s.digest)}</secDNS:digest></secDNS:dsData>"
            )
        p.append("</rdeDomain:secDNS>")
    if d.transferred:
        p.append(f"<rdeDomain:trDate>{_t(d.transferred)}</rdeDomain:trDate>")
    ext = []
    if d.coop_category is not None:
        ext.append(f' coopCategory="{d.coop_category.value}"')
    if d.coop_certified is not None:
        ext.append(f' coopCertified="{_b(d.coop_certified)}"')
    if d.suspension_reason:
        ext.append(f' suspension="{_e(d.suspension_reason)}"')
    if ext:
        p.append(f"<rddsExt:domain{''.join(ext)}/>")
    p.append("</rdeDomain:domain>\n")
    return "".join(p)


_ROLE = {ContactRole.ADMIN: "admin", ContactRole.TECH: "tech", ContactRole.BILLING: "billing"}


def _postal(pi: PostalInfo) -> str:
    p = [f'<rdeContact:postalInfo type="{pi.type}">', f"<contact:name>{_e(pi.name)}</contact:name>"]
    if pi.org is not None:
        p.append(f"<contact:org>{_e(pi.org)}</contact:org>")
    p.append("<contact:addr>")
    p.extend(f"<contact:street>{_e(s)}</contact:street>" for s in pi.street)
    p.append(f"<contact:city>{_e(pi.city)}</contact:city>")
    if pi.sp is not None:
        p.append(f"<contact:sp>{_e(pi.sp)}</contact:sp>")
    if pi.pc is not None:
        p.append(f"<contact:pc>{_e(pi.pc)}</contact:pc>")
    p.append(f"<contact:cc>{_e(pi.cc)}</contact:cc></contact:addr></rdeContact:postalInfo>")
    return "".join(p)


def contact_xml(c: Contact) -> str:
    """One <rdeContact:contact> (RFC 9022 §5.3.1) with the rddsExt facts."""
    p = ["<rdeContact:contact>", f"<rdeContact:id>{_e(c.handle)}</rdeContact:id>"]
    p.append(f"<rdeContact:roid>{_e(c.roid)}</rdeContact:roid>")
    p.extend(f'<rdeContact:status s="{_e(s)}"/>' for s in c.statuses)
    p.extend(_postal(pi) for pi in c.postal)
    if c.voice is not None:
        x = f' x="{_e(c.voice_ext)}"' if c.voice_ext else ""
        p.append(f"<rdeContact:voice{x}>{_e(c.voice)}</rdeContact:voice>")
    if c.fax is not None:
        x = f' x="{_e(c.fax_ext)}"' if c.fax_ext else ""
        p.append(f"<rdeContact:fax{x}>{_e(c.fax)}</rdeContact:fax>")
    p.append(f"<rdeContact:email>{_e(c.email)}</rdeContact:email>")
    p.append(f"<rdeContact:clID>{_e(c.registrar)}</rdeContact:clID>")
    p.append(f"<rdeContact:crRr>{_e(c.registrar)}</rdeContact:crRr>")
    if c.created:
        p.append(f"<rdeContact:crDate>{_t(c.created)}</rdeContact:crDate>")
    if c.updated:
        p.append(f"<rdeContact:upDate>{_t(c.updated)}</rdeContact:upDate>")
    for flag, elements in (("1", c.disclose_yes), ("0", c.disclose_no)):
        if elements:
            p.append(f'<rdeContact:disclose flag="{flag}">')
            for el in sorted(elements):
                typed = ' type="int"' if el in ("name", "org", "addr") else ""
                p.append(f"<contact:{el}{typed}/>")
            p.append("</rdeContact:disclose>")
    p.append(
        f'<rddsExt:contact kind="{c.kind.value}" atRisk="{_b(c.at_risk)}" '
        f'verified="{_b(c.verified)}"/>'
    )
    p.append("</rdeContact:contact>\n")
    return "".join(p)


def host_xml(h: Host) -> str:
    """One <rdeHost:host> (RFC 9022 §5.2.1)."""
    p = ["<rdeHost:host>", f"<rdeHost:name>{h.name}</rdeHost:name>"]
    p.append(f"<rdeHost:roid>{_e(h.roid or '')}</rdeHost:roid>")
    p.extend(f'<rdeHost:status s="{_e(s)}"/>' for s in h.statuses)
    p.extend(f'<rdeHost:addr ip="v4">{a}</rdeHost:addr>' for a in h.v4)
    p.extend(f'<rdeHost:addr ip="v6">{a}</rdeHost:addr>' for a in h.v6)
    p.append(f"<rdeHost:clID>{_e(h.registrar)}</rdeHost:clID>")
    p.append(f"<rdeHost:crRr>{_e(h.registrar)}</rdeHost:crRr>")
    if h.created:
        p.append(f"<rdeHost:crDate>{_t(h.created)}</rdeHost:crDate>")
    if h.updated:
        p.append(f"<rdeHost:upDate>{_t(h.updated)}</rdeHost:upDate>")
    p.append("</rdeHost:host>\n")
    return "".join(p)


def registrar_xml(r: Registrar) -> str:
    """One <rdeRegistrar:registrar> (RFC 9022 §5.4.1) with the rddsExt abuse contact and the
    registrar's RDAP base URL."""
    p = ["<rdeRegistrar:registrar>", f"<rdeRegistrar:id>{_e(r.id)}</rdeRegistrar:id>"]
    p.append(f"<rdeRegistrar:name>{_e(r.name)}</rdeRegistrar:name>")
    if r.iana_id is not None:
        p.append(f"<rdeRegistrar:gurid>{r.iana_id}</rdeRegistrar:gurid>")
    p.append(f"<rdeRegistrar:status>{_e(r.status)}</rdeRegistrar:status>")
    p.append('<rdeRegistrar:postalInfo type="int"><rdeRegistrar:addr>')
    p.extend(f"<rdeRegistrar:street>{_e(s)}</rdeRegistrar:street>" for s in r.street)
    p.append(f"<rdeRegistrar:city>{_e(r.city)}</rdeRegistrar:city>")
    if r.sp is not None:
        p.append(f"<rdeRegistrar:sp>{_e(r.sp)}</rdeRegistrar:sp>")
    if r.pc is not None:
        p.append(f"<rdeRegistrar:pc>{_e(r.pc)}</rdeRegistrar:pc>")
    p.append(f"<rdeRegistrar:cc>{_e(r.cc)}</rdeRegistrar:cc>")
    p.append("</rdeRegistrar:addr></rdeRegistrar:postalInfo>")
    if r.voice is not None:
        p.append(f"<rdeRegistrar:voice>{_e(r.voice)}</rdeRegistrar:voice>")
    if r.fax is not None:
        p.append(f"<rdeRegistrar:fax>{_e(r.fax)}</rdeRegistrar:fax>")
    p.append(f"<rdeRegistrar:email>{_e(r.email)}</rdeRegistrar:email>")
    if r.url is not None:
        p.append(f"<rdeRegistrar:url>{_e(r.url)}</rdeRegistrar:url>")
    if r.whois_server is not None:
        p.append(
            f"<rdeRegistrar:whoisInfo><rdeRegistrar:name>{_e(r.whois_server)}"
            "</rdeRegistrar:name></rdeRegistrar:whoisInfo>"
        )
    if r.created:
        p.append(f"<rdeRegistrar:crDate>{_t(r.created)}</rdeRegistrar:crDate>")
    if r.updated:
        p.append(f"<rdeRegistrar:upDate>{_t(r.updated)}</rdeRegistrar:upDate>")
    abuse = []
    if r.abuse_email:
        abuse.append(f' abuseEmail="{_e(r.abuse_email)}"')
    if r.abuse_phone:
        abuse.append(f' abuseVoice="{_e(r.abuse_phone)}"')
    if r.rdap_base_url:
        abuse.append(f' rdapBaseUrl="{_e(r.rdap_base_url)}"')
    if abuse:
        p.append(f"<rddsExt:registrar{''.join(abuse)}/>")
    p.append("</rdeRegistrar:registrar>\n")
    return "".join(p)


def tld_xml(t: Tld) -> str:
    """The rddsExt:tld content element."""
    return (
        f'<rddsExt:tld kind="{t.kind.value}" policy="{_e(t.policy)}" '
        f'roidSuffix="{_e(t.roid_suffix)}"/>\n'
    )


def epp_params_xml(disclose_all: bool) -> str:
    """A minimal <rdeEppParams:eppParams> whose dcp access carries the disclose default."""
    access = "<epp:all/>" if disclose_all else "<epp:personalAndOther/>"
    return (
        "<rdeEppParams:eppParams><rdeEppParams:version>1.0</rdeEppParams:version>"
        "<rdeEppParams:lang>en</rdeEppParams:lang>"
        f"<rdeEppParams:objURI>{rde.EPP_DOMAIN}</rdeEppParams:objURI>"
        f"<rdeEppParams:objURI>{rde.EPP_CONTACT}</rdeEppParams:objURI>"
        "<rdeEppParams:objURI>urn:ietf:params:xml:ns:host-1.0</rdeEppParams:objURI>"
        f"<rdeEppParams:dcp><epp:access>{access}</epp:access><epp:statement>"
        "<epp:purpose><epp:admin/><epp:prov/></epp:purpose>"
        "<epp:recipient><epp:ours/></epp:recipient>"
        "<epp:retention><epp:stated/></epp:retention></epp:statement></rdeEppParams:dcp>"
        "</rdeEppParams:eppParams>\n"
    )


def header_xml(tld: str, counts: dict[str, int]) -> str:
    """The <rdeHeader:header>: the TLD and its totals at the watermark."""
    p = ["<rdeHeader:header>", f"<rdeHeader:tld>{tld}</rdeHeader:tld>"]
    p.extend(f'<rdeHeader:count uri="{uri}">{n}</rdeHeader:count>' for uri, n in counts.items())
    p.append("</rdeHeader:header>\n")
    return "".join(p)


def open_deposit(
    fh: TextIO, dtype: str, did: str, watermark: dt.datetime, prev_id: str | None = None
) -> None:
    """Write the container's opening: <rde:deposit>, watermark, rdeMenu."""
    ns = " ".join(f'xmlns:{p}="{u}"' for p, u in _NAMESPACES)
    prev = f' prevId="{prev_id}"' if prev_id else ""
    fh.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    fh.write(f'<rde:deposit type="{dtype}" id="{did}"{prev} resend="0" {ns}>\n')
    fh.write(f"<rde:watermark>{_t(watermark)}</rde:watermark>\n<rde:rdeMenu>")
    fh.write("<rde:version>1.0</rde:version>")
    fh.write("".join(f"<rde:objURI>{u}</rde:objURI>" for u in _MENU))
    fh.write("</rde:rdeMenu>\n")


@dataclasses.dataclass(slots=True)
class _Out:
    tld: Tld
    fh: TextIO
    counts: dict[str, int]
    deleted: list[tuple[Domain, Contact]] = dataclasses.field(default_factory=list)
    changed: list[tuple[Domain, Contact]] = dataclasses.field(default_factory=list)
    seen: int = 0


def _count(out: _Out, uri: str, n: int = 1) -> None:
    out.counts[uri] = out.counts.get(uri, 0) + n


def _file_name(tld: str, day: dt.datetime, kind: str) -> str:
    # ICANN: {tld}_{YYYY-MM-DD}_{type}_S{series}_R{resend}.xml
    return f"{tld}_{day:%Y-%m-%d}_{kind}_S1_R0.xml"


def _deposit_id(day: dt.datetime, tld_index: int) -> str:
    # RFC 8909 depositIdType is \w{1,13}; ids are unique per TLD, here unique overall too.
    return f"{day:%Y%m%d}{tld_index:02d}001"


def write_deposits(out_dir: Path, n_domains: int, seed: int) -> list[Path]:
    """Write the demo registry as one FULL and one DIFF per TLD; return the paths in import
    order (all FULLs, then all DIFFs)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    tlds = {t.name: t for t in demo.TLDS}
    full_day = demo.WATERMARK
    diff_day = full_day + dt.timedelta(days=1)
    outs: dict[str, _Out] = {}
    full_paths = []
    try:
        for i, t in enumerate(demo.TLDS):
            path = out_dir / _file_name(t.name, full_day, "full")
            fh = open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed in finally
            outs[t.name] = _Out(t, fh, {})
            open_deposit(fh, "FULL", _deposit_id(full_day, i), full_day)
            fh.write("<rde:contents>\n")
            fh.write(tld_xml(t))
            full_paths.append(path)
        first = True
        # Sample often enough that even a small demo gets deletes and changes in each DIFF.
        step = max(2, min(_SAMPLE_EVERY, n_domains // 100))
        for batch, _ in demo.generate(n_domains, seed):
            _write_batch(batch, outs, tlds, first, step)
            first = False
        for out in outs.values():
            out.fh.write(epp_params_xml(out.tld.disclose_default))
            # The header goes last: RFC 9022 allows any order, and only now are counts known.
            out.fh.write(header_xml(out.tld.name, out.counts))
            out.fh.write("</rde:contents>\n</rde:deposit>\n")
    finally:
        for out in outs.values():
            out.fh.close()
    diff_paths = [
        _write_diff(out_dir, i, out, full_day, diff_day) for i, out in enumerate(outs.values())
    ]
    return full_paths + diff_paths


def _write_batch(
    batch: demo.DemoData, outs: dict[str, _Out], tlds: dict[str, Tld], first: bool, step: int
) -> None:
    everywhere = list(outs.values())
    # Which TLD's deposit carries a contact: the TLD of the domains that reference it.
    # Registrars, their role contacts and their out-of-zone hosts are shared: every TLD's
    # deposit carries them (a shared registry platform escrows them per TLD).
    shared_contacts = {f"{r.id}-TECH" for r in batch.registrars} if first else set()
    owner: dict[str, str] = {}
    contacts_of: dict[str, Contact] = {c.handle: c for c in batch.contacts}
    for d in batch.domains:
        if d.registrant:
            owner.setdefault(d.registrant, d.tld)
        for _, handle in d.contacts:
            owner.setdefault(handle, d.tld)
    for r in batch.registrars:
        xml = registrar_xml(r)
        for out in everywhere:
            out.fh.write(xml)
            _count(out, rde.REGISTRAR)
    for c in batch.contacts:
        xml = contact_xml(c)
        targets = (
            everywhere
            if c.handle in shared_contacts or c.handle not in owner
            else [outs[owner[c.handle]]]
        )
        for out in targets:
            out.fh.write(xml)
            _count(out, rde.CONTACT)
    for h in batch.hosts:
        xml = host_xml(h)
        last = h.name.rsplit(".", 1)[-1]
        for out in [outs[last]] if last in tlds else everywhere:
            out.fh.write(xml)
            _count(out, rde.HOST)
    for d in batch.domains:
        out = outs[d.tld]
        out.fh.write(domain_xml(d))
        _count(out, rde.DOMAIN)
        out.seen += 1
        in_zone = any(ns.endswith("." + d.name) for ns in d.nameservers)
        registrant = contacts_of.get(d.registrant or "")
        if (
            first
            or in_zone
            or registrant is None
            or owner.get(registrant.handle) != d.tld
            or out.seen % step
        ):
            continue
        # A small bounded sample for the DIFF: alternate deletes and changes.
        target = out.deleted if len(out.deleted) <= len(out.changed) else out.changed
        if len(target) < DIFF_SAMPLE // 2:
            target.append((d, registrant))


def _write_diff(
    out_dir: Path, index: int, out: _Out, full_day: dt.datetime, day: dt.datetime
) -> Path:
    t = out.tld
    path = out_dir / _file_name(t.name, day, "diff")
    counts = dict(out.counts)
    with open(path, "w", encoding="utf-8") as fh:
        open_deposit(fh, "DIFF", _deposit_id(day, index), day, _deposit_id(full_day, index))
        fh.write("<rde:deletes>\n")
        for d, c in out.deleted:
            fh.write(
                f"<rdeDomain:delete><rdeDomain:name>{d.name}</rdeDomain:name></rdeDomain:delete>\n"
            )
            # The registrant served only this domain: the registry deletes it too.
            if not any(h == c.handle for _, h in d.contacts):
                fh.write(
                    f"<rdeContact:delete><rdeContact:id>{_e(c.handle)}</rdeContact:id>"
                    "</rdeContact:delete>\n"
                )
                counts[rde.CONTACT] -= 1
            counts[rde.DOMAIN] -= 1
        fh.write("</rde:deletes>\n<rde:contents>\n")
        for d, c in out.changed:
            # Whole snapshots (RFC 9022): a registrant moved, a lock added.
            fh.write(contact_xml(dataclasses.replace(c, voice="+1.5550100777", updated=day)))
            statuses = tuple(s for s in d.statuses if s not in ("ok", "inactive"))
            fh.write(
                domain_xml(
                    dataclasses.replace(
                        d, statuses=(*statuses, "clientUpdateProhibited"), updated=day
                    )
                )
            )
        if out.changed:
            d, c = out.changed[0]
            new = dataclasses.replace(
                d,
                name=f"new-in-diff.{t.name}",
                roid=f"DNEWDIFF{index}-{t.roid_suffix}",
                unicode_name=_unicode_or_none(f"new-in-diff.{t.name}"),
                created=day,
                updated=None,
                expires=day + dt.timedelta(days=365),
                statuses=("ok",),
                rgp_statuses=("addPeriod",),
            )
            fh.write(domain_xml(new))
            counts[rde.DOMAIN] += 1
        fh.write(header_xml(t.name, counts))
        fh.write("</rde:contents>\n</rde:deposit>\n")
    return path


def _unicode_or_none(ldh: str) -> str | None:
    n = names.from_text(ldh)
    return n.unicode if n.is_idn else None

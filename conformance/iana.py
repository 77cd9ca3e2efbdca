"""Pure vocabulary: the IANA registries the checker judges values against. No I/O.

Embedded copies of the IANA "RDAP JSON Values" registry (RFC 9083 §10.2), the "RDAP Extensions"
identifiers this checker understands (RFC 7480 §6), and the "Redacted Name" values registered
for the gTLD profile (RFC 9537 §5).
"""

from __future__ import annotations

# RFC 9083 §10.2.2 plus RFC 8056 §2 (EPP mappings) and later registrations, type "status".
STATUSES: frozenset[str] = frozenset(
    {
        "validated",
        "renew prohibited",
        "update prohibited",
        "transfer prohibited",
        "delete prohibited",
        "proxy",
        "private",
        "removed",
        "obscured",
        "associated",
        "active",
        "inactive",
        "locked",
        "pending create",
        "pending renew",
        "pending transfer",
        "pending update",
        "pending delete",
        "add period",
        "auto renew period",
        "client delete prohibited",
        "client hold",
        "client renew prohibited",
        "client transfer prohibited",
        "client update prohibited",
        "pending restore",
        "redemption period",
        "renew period",
        "server delete prohibited",
        "server renew prohibited",
        "server transfer prohibited",
        "server update prohibited",
        "server hold",
        "transfer period",
        "administrative",
        "reserved",
    }
)

# RFC 9083 §10.2.3 and later registrations, type "event action".
EVENT_ACTIONS: frozenset[str] = frozenset(
    {
        "registration",
        "reregistration",
        "last changed",
        "expiration",
        "deletion",
        "reinstantiation",
        "transfer",
        "locked",
        "unlocked",
        "last update of RDAP database",
        "registrar expiration",
        "enum validation expiration",
    }
)

# RFC 9083 §10.2.4, type "role".
ROLES: frozenset[str] = frozenset(
    {
        "registrant",
        "technical",
        "administrative",
        "abuse",
        "billing",
        "registrar",
        "reseller",
        "sponsor",
        "proxy",
        "notifications",
        "noc",
    }
)

# RFC 9083 §10.2.1, type "notice and remark type".
NOTICE_TYPES: frozenset[str] = frozenset(
    {
        "result set truncated due to authorization",
        "result set truncated due to excessive load",
        "result set truncated due to unexplainable reasons",
        "object truncated due to authorization",
        "object truncated due to excessive load",
        "object truncated due to unexplainable reasons",
        "object redacted due to authorization",
    }
)

# RFC 9083 §4.2 / RFC 7480: the media type every RDAP answer carries.
RDAP_MEDIA_TYPE = "application/rdap+json"

# RFC 9537 §5 and the ICANN gTLD profile: registered "redacted name" values.
REDACTED_NAMES: frozenset[str] = frozenset(
    {
        "Registry Domain ID",
        "Registry Registrant ID",
        "Registrant Name",
        "Registrant Organization",
        "Registrant Street",
        "Registrant City",
        "Registrant Postal Code",
        "Registrant Phone",
        "Registrant Phone Ext",
        "Registrant Fax",
        "Registrant Fax Ext",
        "Registrant Email",
        "Registry Tech ID",
        "Tech Name",
        "Tech Phone",
        "Tech Phone Ext",
        "Tech Email",
    }
)

# RFC 9537 §4.2: the redaction methods.
REDACTION_METHODS: frozenset[str] = frozenset(
    {"removal", "emptyValue", "partialValue", "replacementValue"}
)

# ICANN gTLD RDAP profile (2024) conformance identifiers, and the retired `_0` versions.
GTLD_PROFILE = "icann_rdap_response_profile_1"
GTLD_TIG = "icann_rdap_technical_implementation_guide_1"
GTLD_RETIRED: frozenset[str] = frozenset(
    {"icann_rdap_response_profile_0", "icann_rdap_technical_implementation_guide_0"}
)

# RFC 7480 §6 / RFC 9083 §2.1: response members defined by registered extensions whose names
# do not carry their identifier as a prefix, mapped to the identifier that must be declared.
EXTENSION_MEMBERS: dict[str, str] = {
    "redacted": "redacted",  # RFC 9537 §4.1
    "paging_metadata": "paging",  # RFC 8977 §2.4.1
    "sorting_metadata": "sorting",  # RFC 8977 §2.3.2
    "subsetting_metadata": "subsetting",  # RFC 8982 §3
    "reverse_search_properties": "reverse_search",  # RFC 9536 §6
    "reverse_search_properties_mapping": "reverse_search",  # RFC 9536 §5
}

# RFC 8982 §4: the field sets every server that supports partial responses defines.
FIELD_SETS: frozenset[str] = frozenset({"id", "brief", "full"})

# IANA "RDAP Reverse Search Mapping" (RFC 9536 §8.2): the registered path per property, for
# domain searches by a related entity.
REVERSE_SEARCH_PATHS: dict[str, str] = {
    "fn": "$.entities[*].vcardArray[1][?(@[0]=='fn')][3]",
    "handle": "$.entities[*].handle",
    "email": "$.entities[*].vcardArray[1][?(@[0]=='email')][3]",
    "role": "$.entities[*].roles",
}


# RFC 8056 §2: EPP domain status values, as port-43 output spells them.
EPP_STATUSES: frozenset[str] = frozenset(
    {
        "ok",
        "inactive",
        "pendingCreate",
        "pendingDelete",
        "pendingRenew",
        "pendingTransfer",
        "pendingUpdate",
        "clientHold",
        "serverHold",
        "clientDeleteProhibited",
        "clientRenewProhibited",
        "clientTransferProhibited",
        "clientUpdateProhibited",
        "serverDeleteProhibited",
        "serverRenewProhibited",
        "serverTransferProhibited",
        "serverUpdateProhibited",
        "addPeriod",
        "autoRenewPeriod",
        "renewPeriod",
        "transferPeriod",
        "redemptionPeriod",
        "pendingRestore",
    }
)

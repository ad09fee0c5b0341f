"""The audit trail, one job per module:

- `record`: `audit_record` appends one event in the caller's transaction (one INSERT), secrets redacted;
- `chain`: `audit_seal` chains final events with HMAC-SHA256, `audit_verify` recomputes the chain;
- `anchor`: the sealed head written outside the database after each seal, read back for verification;
- `export`: streamed CSV for auditors.

The public names are importable from `portal.audit` itself.
"""

from portal.audit.anchor import Anchor, AnchorError, parse_head, read_anchors
from portal.audit.chain import (
    CHAIN_FIELDS,
    GENESIS,
    AuditProblem,
    AuditVerification,
    audit_seal,
    audit_verify,
    canonical,
    event_hash,
)
from portal.audit.export import CSV_HEADER, audit_csv
from portal.audit.record import (
    AUDIT_ACTIONS,
    REDACTED,
    USER_AGENT_MAX,
    audit_record,
    redact,
)

__all__ = [
    "AUDIT_ACTIONS",
    "CHAIN_FIELDS",
    "CSV_HEADER",
    "GENESIS",
    "REDACTED",
    "USER_AGENT_MAX",
    "Anchor",
    "AnchorError",
    "AuditProblem",
    "AuditVerification",
    "audit_csv",
    "audit_record",
    "audit_seal",
    "audit_verify",
    "canonical",
    "event_hash",
    "parse_head",
    "read_anchors",
    "redact",
]

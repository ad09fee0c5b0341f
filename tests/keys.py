"""Idempotency keys for tests that post the transfer form: it accepts only keys of the shape it draws
(uuid4 hex, 32 hex characters; transactions/forms.py), so a test names its key and posts this."""

import re
import uuid


def form_key(name: str) -> str:
    """The 32-hex key for `name`, the same every time (a key that already has the shape is kept)."""
    if re.fullmatch(r"[0-9a-f]{32}", name):
        return name
    return uuid.uuid5(uuid.NAMESPACE_OID, name).hex

"""Personal data under the user's control (issue 21): columns excluded or hashed before
anything is written, and people forgotten on request.

`keyed_hash` is the one hash both use: HMAC-SHA256 keyed with the account's salt
(`sources.liveagent.privacy_salt`, a secret), so a hashed value is the same in every run and
every table (joins on it still work) and cannot be looked up without the salt.
"""

from __future__ import annotations

import hashlib
import hmac

SALT_SETTING = "sources.liveagent.privacy_salt"


def keyed_hash(value: object, salt: str) -> str:
    """The hex HMAC-SHA256 of `value` as text, keyed with `salt`."""
    text = str(value).encode("utf-8", "surrogatepass")
    return hmac.new(salt.encode("utf-8"), text, hashlib.sha256).hexdigest()

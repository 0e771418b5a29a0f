"""Several LiveAgent accounts from one configuration, each its own pipeline, state and lock.

```toml
[liveagent.accounts.acme]            # .dlt/config.toml
base_url = "https://acme.ladesk.com"
timezone = "Europe/Bratislava"
dataset = "acme"                     # default: the account's name

[liveagent.accounts.globex]
base_url = "https://globex.ladesk.com"
```

```toml
[liveagent.accounts.acme]            # .dlt/secrets.toml
api_key = "..."
```

An account is declared by its table in a TOML file; any of its values may then come from the
environment under dlt's names (`LIVEAGENT__ACCOUNTS__ACME__API_KEY`), which wins. Every other
`sources.liveagent.*` setting applies to all accounts unless an account sets it too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import dlt

from pipelines.runner import RunOptions, UsageError

SECTION = "liveagent.accounts"
_NAME = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class Account:
    """One configured account: its name, the dataset it loads into and the source settings
    that differ from the shared ones (base_url, api_key, timezone, ...)."""

    name: str
    dataset: str
    settings: dict[str, Any] = field(default_factory=dict)

    def options(self, base: RunOptions) -> RunOptions:
        """`base` aimed at this account's dataset (and, for DuckDB, its own file
        `liveagent_<name>.duckdb` unless one was given: two accounts never share a file's
        catalog; not `<name>.duckdb`, which DuckDB would refuse beside the dataset `<name>`)."""
        duckdb_path = base.duckdb_path if base.duckdb_path != RunOptions.duckdb_path \
            else f"liveagent_{self.name}.duckdb"
        return RunOptions(**{**vars(base), "dataset": self.dataset,
                             "duckdb_path": duckdb_path})


def configured_accounts() -> list[Account]:
    """The accounts of `[liveagent.accounts.*]`, in name order."""
    accounts = []
    for name, declared in sorted(_declared().items()):
        if not _NAME.fullmatch(name):
            raise UsageError(f"{SECTION}.{name}: an account's name must be lowercase letters, "
                             "digits and underscores, starting with a letter")
        settings: dict[str, Any] = {key: dlt.config.get(f"{SECTION}.{name}.{key}")
                                    for key in declared}
        api_key: Any = dlt.secrets.get(f"{SECTION}.{name}.api_key")
        if api_key:
            settings["api_key"] = api_key
        dataset = str(settings.pop("dataset", None) or name)
        accounts.append(Account(name, dataset, settings))
    return accounts


def _declared() -> dict[str, dict[str, Any]]:
    """The account tables of every TOML file dlt reads (config and secrets), merged; the
    environment cannot declare an account (it cannot be listed), only set its values."""
    merged: dict[str, dict[str, Any]] = {}
    for provider in reversed(dlt.config.config_providers):  # the strongest last
        try:
            found, _ = provider.get_value("accounts", dict, None, "liveagent")
        except Exception:  # a provider that holds no such table
            continue
        if found is not None and not isinstance(found, Mapping):
            raise UsageError(f"{SECTION} must be a table of accounts, e.g. "
                             f"[{SECTION}.acme] with base_url and api_key")
        for name, settings in (found or {}).items():
            merged.setdefault(name, {}).update(dict(settings or {}))
    return merged


def account_named(name: str) -> Account:
    for account in configured_accounts():
        if account.name == name:
            return account
    known = ", ".join(a.name for a in configured_accounts()) or "none configured"
    raise UsageError(f"no account '{name}' in [{SECTION}]; configured: {known}")

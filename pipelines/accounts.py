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
privacy_salt = "..."                 # default: sources.liveagent.privacy_salt
```

An account is declared by its table in a TOML file; any of its values may then come from the
environment under dlt's names (`LIVEAGENT__ACCOUNTS__ACME__API_KEY`), which wins. Every other
`sources.liveagent.*` setting applies to all accounts unless an account sets it too.

The source's messages name a setting by its shared key and variable (`sources.liveagent.api_key`,
`SOURCES__LIVEAGENT__API_KEY`); `Account.renamed` names the account's own instead wherever the
account sets that key, since the shared value is not the one its run used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import dlt

from pipelines.options import RunOptions, UsageError
from pipelines.targets import describe_target, target_id

SECTION = "liveagent.accounts"
# an account's secrets: read from the secrets providers (dlt.config does not read those)
SECRETS = ("api_key", "privacy_salt")
_NAME = re.compile(r"[a-z][a-z0-9_]*")


def shared_setting(key: str) -> tuple[str, str]:
    """A source setting's shared key and environment variable, as the source's messages say."""
    return f"sources.liveagent.{key}", f"SOURCES__LIVEAGENT__{key.upper()}"


@dataclass(frozen=True)
class Account:
    """One configured account: its name, the dataset it loads into and the source settings
    that differ from the shared ones (base_url, api_key, timezone, ...)."""

    name: str
    dataset: str
    settings: dict[str, Any] = field(default_factory=dict, repr=False)  # holds the API key

    def options(self, base: RunOptions) -> RunOptions:
        """`base` aimed at this account's dataset (and, for DuckDB, its own file unless one
        was given: two accounts never share a file's catalog; `liveagent_<name>.duckdb`, not
        `<name>.duckdb`, which DuckDB would confuse with the dataset `<name>`)."""
        duckdb_path = base.duckdb_path if base.duckdb_path != RunOptions.duckdb_path \
            else self.duckdb_path
        return RunOptions(**{**vars(base), "dataset": self.dataset,
                             "duckdb_path": duckdb_path, "account": self})

    @property
    def duckdb_path(self) -> str:
        """The account's own DuckDB file, where `--duckdb-path` names none."""
        return f"liveagent_{self.name}.duckdb"

    def setting(self, key: str) -> tuple[str, str]:
        """This account's key and environment variable for the source setting `key`."""
        return f"{SECTION}.{self.name}.{key}", \
            f"{SECTION.replace('.', '__').upper()}__{self.name.upper()}__{key.upper()}"

    def renamed(self, message: str) -> str:
        """`message` with the shared name of each setting this account sets replaced by the
        account's own (its key, its variable); the settings it inherits keep the shared name."""
        for key in self.settings:
            for shared, own in zip(shared_setting(key), self.setting(key), strict=True):
                # whole names only: not `sources.liveagent.start_date` inside a longer one
                message = re.sub(rf"(?<![\w.]){re.escape(shared)}(?!\w)", own, message)
        return message

    def where_to_set(self, key: str) -> str:
        """Where a setting found nowhere may be set: for this account, or for every account."""
        (own, own_env), (shared, shared_env) = self.setting(key), shared_setting(key)
        return f"{own} (env {own_env}) or {shared} (env {shared_env})"


def configured_accounts() -> list[Account]:
    """The accounts of `[liveagent.accounts.*]`, in name order."""
    accounts = []
    for name, declared in sorted(_declared().items()):
        if not _NAME.fullmatch(name):
            raise UsageError(f"{SECTION}.{name}: an account's name must be lowercase letters, "
                             "digits and underscores, starting with a letter")
        # secrets only as secrets: dlt's trace keeps what dlt.config.get read in clear text
        settings: dict[str, Any] = {key: dlt.config.get(f"{SECTION}.{name}.{key}")
                                    for key in declared if key not in SECRETS}
        for key in SECRETS:
            secret: Any = dlt.secrets.get(f"{SECTION}.{name}.{key}")
            if secret:
                settings[key] = secret
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


def refuse_a_shared_target(options: RunOptions) -> None:
    """Refuses a run of an account into the target (destination, dataset, DuckDB file) of
    another configured account run with the same command line: the two would share one dlt
    pipeline, its state and each other's tables (measured: globex's first run went on from
    acme's high-water mark and loaded 7 of its 200 conversations; `globex --reconcile` marked
    all 300 of acme's conversations deleted). The other account is taken with its own dataset,
    since a `--dataset` given for this run is not given for its runs."""
    account = options.account
    if account is None:
        return
    # the command line the run had: the account's own DuckDB file stands for none given
    base = RunOptions(**{**vars(options), "duckdb_path": RunOptions.duckdb_path}) \
        if options.duckdb_path == account.duckdb_path else options
    for other in configured_accounts():
        if other.name != account.name and target_id(other.options(base)) == target_id(options):
            raise UsageError(_shared_target(account, other, options))


def _shared_target(account: Account, other: Account, options: RunOptions) -> str:
    own = "" if options.dataset == account.dataset else \
        f", or run {account.name} without --dataset (its own is '{account.dataset}')"
    return (f"accounts {account.name} and {other.name} both load into "
            f"{describe_target(options)}: they would share one pipeline's state and each "
            f"other's tables; set {SECTION}.{other.name}.dataset (or {account.name}'s) to a "
            f"dataset of its own{own}")

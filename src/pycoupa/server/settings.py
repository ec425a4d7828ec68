"""Server settings: every one from a flag or its ``PYCOUPA_*`` environment variable.

The flag wins over the environment; the environment wins over the default. Secrets (encryption
keys, the database password inside a URL) are held in :class:`~pycoupa.client.errors.Secret`-like
wrappers or never printed: ``repr(settings)`` masks them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from pycoupa.client.errors import redact_url

DEFAULT_DATABASE_URL = "sqlite:///pycoupa.db"
# uvicorn's levels, which it matches case-insensitively.
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


class SettingsError(ValueError):
    """A setting has a bad value; the message names the setting and its variable."""


@dataclass
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str = DEFAULT_DATABASE_URL
    encryption_keys: str = field(default="", repr=False)  # "kid:base64key,kid2:base64key"; first encrypts
    key_file: str = ""  # where a generated key lives when no keys are given (demo mode only)
    redis_url: str = ""
    # The budget per Coupa instance, shared by every worker: Coupa's documented 25 req/s, burst 20.
    coupa_rps: float = 25.0
    coupa_burst: int = 20
    # Of that burst, the slots left unused (-1: half the burst): requests leave evenly spaced, but CPU,
    # Redis and network jitter across workers can bunch them on arrival, and Coupa counts arrivals.
    coupa_headroom: int = -1
    # A call the instance's budget would hold longer than this answers 429 + Retry-After at once
    # instead of queueing (0: never wait, answer 429 whenever the budget is taken).
    coupa_max_wait: float = 10.0
    key_rps: float = 50.0  # per platform API key
    key_burst: int = 100
    account_rps: float = 25.0  # per integrated account
    account_burst: int = 50
    workers: int = 1
    demo: bool = False
    # Accounts may point at loopback and private addresses (see egress.py); the demo turns it on.
    allow_private_instances: bool = False
    log_level: str = "info"

    ENV = {
        "host": "PYCOUPA_HOST",
        "port": "PYCOUPA_PORT",
        "database_url": "PYCOUPA_DATABASE_URL",
        "encryption_keys": "PYCOUPA_ENCRYPTION_KEYS",
        "key_file": "PYCOUPA_KEY_FILE",
        "redis_url": "PYCOUPA_REDIS_URL",
        "coupa_rps": "PYCOUPA_COUPA_RPS",
        "coupa_burst": "PYCOUPA_COUPA_BURST",
        "coupa_headroom": "PYCOUPA_COUPA_HEADROOM",
        "coupa_max_wait": "PYCOUPA_COUPA_MAX_WAIT",
        "key_rps": "PYCOUPA_KEY_RPS",
        "key_burst": "PYCOUPA_KEY_BURST",
        "account_rps": "PYCOUPA_ACCOUNT_RPS",
        "account_burst": "PYCOUPA_ACCOUNT_BURST",
        "workers": "PYCOUPA_WORKERS",
        "demo": "PYCOUPA_DEMO",
        "allow_private_instances": "PYCOUPA_ALLOW_PRIVATE_INSTANCES",
        "log_level": "PYCOUPA_LOG_LEVEL",
    }

    def __repr__(self) -> str:
        shown = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "encryption_keys":
                value = "***" if value else ""
            elif f.name in ("database_url", "redis_url") and value:
                value = redact_url(value)
            shown.append(f"{f.name}={value!r}")
        return f"ServerSettings({', '.join(shown)})"

    @classmethod
    def load(
        cls, overrides: Mapping[str, object] | None = None, environ: Mapping[str, str] | None = None
    ) -> ServerSettings:
        """Defaults, then the environment, then ``overrides`` (flags; ``None`` values are ignored)."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            name = cls.ENV.get(f.name)
            if name and env.get(name, "") != "":
                values[f.name] = _convert(f.name, name, env[name], f.type)
        for key, value in (overrides or {}).items():
            if value is None:
                continue
            if key not in cls.ENV:
                raise SettingsError(f"unknown setting {key!r}")
            values[key] = value
        settings = cls(**values)  # type: ignore[arg-type]
        settings.check()
        return settings

    def check(self) -> None:
        if not 0 < self.port < 65536:
            raise SettingsError(f"port must be 1..65535 (PYCOUPA_PORT), got {self.port}")
        for name in ("coupa_rps", "key_rps", "account_rps"):
            if not getattr(self, name) > 0:
                raise SettingsError(f"{name} must be > 0 ({self.ENV[name]}), got {getattr(self, name)}")
        if not self.coupa_max_wait >= 0:
            raise SettingsError(
                f"coupa_max_wait must be >= 0 seconds (PYCOUPA_COUPA_MAX_WAIT), got {self.coupa_max_wait}"
            )
        for name in ("coupa_burst", "key_burst", "account_burst", "workers"):
            if getattr(self, name) < 1:
                raise SettingsError(f"{name} must be >= 1 ({self.ENV[name]}), got {getattr(self, name)}")
        if self.coupa_headroom == -1:
            self.coupa_headroom = self.coupa_burst // 2
        if not 0 <= self.coupa_headroom < self.coupa_burst:
            raise SettingsError(
                f"coupa_headroom must be 0 to coupa_burst - 1 ({self.coupa_burst - 1}) (PYCOUPA_COUPA_HEADROOM), "
                f"got {self.coupa_headroom}"
            )
        if not self.database_url.startswith(("sqlite", "postgresql", "postgres")):
            raise SettingsError(
                "database_url must be a sqlite:/// or postgresql:// URL (PYCOUPA_DATABASE_URL), "
                f"got {redact_url(self.database_url)!r}"
            )
        if self.workers > 1 and self.database_url.startswith("sqlite") and ":memory:" in self.database_url:
            raise SettingsError("several workers cannot share an in-memory SQLite database")
        if str(self.log_level).lower() not in LOG_LEVELS:
            raise SettingsError(
                f"log_level must be one of {', '.join(LOG_LEVELS)} (PYCOUPA_LOG_LEVEL), got {self.log_level!r}"
            )

    @property
    def default_key_file(self) -> Path:
        return Path(self.key_file) if self.key_file else Path(".pycoupa") / "encryption.keys"


def _convert(field_name: str, env_name: str, raw: str, type_name: object) -> object:
    kind = str(type_name)
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
    except ValueError:
        raise SettingsError(f"{env_name} must be a number, got {raw!r}") from None
    if kind == "bool":
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise SettingsError(f"{env_name} must be true or false, got {raw!r}")
    return raw

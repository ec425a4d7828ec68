"""The emulator's OAuth 2.0 server: clients, the token endpoint, consent, and token checks.

Coupa issues JWT access tokens living 86,399 s; refresh tokens only with ``offline_access`` on an
authorization-code grant, living 90 days (coupa-api.md section 1). Errors follow RFC 6749.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import jwt

from pycoupa.emulator.store import Store

ACCESS_TOKEN_TTL = 86399
REFRESH_TOKEN_TTL = 90 * 86400
AUTH_CODE_TTL = 600
OIDC_SCOPES = ("openid", "email", "profile", "login", "offline_access")


class OAuthError(Exception):
    """An RFC 6749 error answer from the token endpoint."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


class TokenRejected(Exception):
    """An /api request whose credentials do not hold (answered 401)."""


@dataclass(frozen=True)
class Principal:
    client_id: str
    scopes: frozenset[str]
    user_id: int | None
    via: str  # "bearer" or "api_key"


class Clock:
    """The instance's clock: real time plus an offset the control plane can advance."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.offset = float(store.setting("clock_offset") or 0.0)

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.offset)

    def timestamp(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds
        self.store.set_setting("clock_offset", self.offset)


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class OAuthServer:
    def __init__(self, store: Store, clock: Clock, known_scopes: set[str], issuer: str) -> None:
        self.store = store
        self.clock = clock
        self.known_scopes = known_scopes | set(OIDC_SCOPES)
        self.issuer = issuer
        key = store.setting("jwt_secret")
        if not key:
            key = secrets.token_hex(32)
            store.set_setting("jwt_secret", key)
        self._key: str = key

    # -- clients ---------------------------------------------------------------------------------
    def create_client(
        self,
        scopes: list[str],
        user_id: int | None,
        *,
        name: str | None = None,
        redirect_uris: list[str] | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
    ) -> tuple[str, str]:
        unknown = sorted(set(scopes) - self.known_scopes)
        if unknown:
            raise ValueError(f"unknown scopes: {', '.join(unknown)}")
        client_id = client_id or secrets.token_hex(16)
        client_secret = client_secret or secrets.token_urlsafe(32)
        self.store.put_meta(
            "_oauth_clients",
            client_id,
            {
                "client_id": client_id,
                "secret_sha256": _hash_secret(client_secret),
                "scopes": sorted(set(scopes)),
                "user_id": user_id,
                "name": name or client_id,
                "redirect_uris": list(redirect_uris or []),
            },
        )
        return client_id, client_secret

    def client(self, client_id: str) -> dict[str, Any] | None:
        return self.store.get_meta("_oauth_clients", client_id)

    def _authenticate_client(
        self, client_id: str | None, secret: str | None, *, secret_optional: bool = False
    ) -> dict[str, Any]:
        if not client_id:
            raise OAuthError("invalid_client", "client authentication failed: no client_id", 401)
        client = self.client(client_id)
        if client is None:
            raise OAuthError("invalid_client", "client authentication failed: unknown client", 401)
        if secret is None and secret_optional:
            return client
        if secret is None or not hmac.compare_digest(client["secret_sha256"], _hash_secret(secret)):
            raise OAuthError("invalid_client", "client authentication failed: wrong client secret", 401)
        return client

    def _check_scopes(self, requested: str | None, allowed: list[str]) -> list[str]:
        if requested is None or not requested.strip():
            return list(allowed)
        if "," in requested and " " not in requested.strip():
            raise OAuthError("invalid_scope", "scopes are separated by spaces, not commas")
        wanted = requested.split()
        unknown = [s for s in wanted if s not in self.known_scopes]
        if unknown:
            raise OAuthError("invalid_scope", f"unknown scope: {' '.join(unknown)}")
        refused = [s for s in wanted if s not in allowed]
        if refused:
            raise OAuthError("invalid_scope", f"scope not allowed for this client: {' '.join(refused)}")
        return list(dict.fromkeys(wanted))

    # -- token endpoint --------------------------------------------------------------------------
    def token(self, params: dict[str, str], basic: tuple[str, str] | None) -> dict[str, Any]:
        client_id = params.get("client_id")
        secret = params.get("client_secret")
        if basic:
            if client_id and client_id != basic[0]:
                raise OAuthError("invalid_request", "client_id in the body differs from HTTP Basic credentials")
            client_id, secret = basic
        grant = params.get("grant_type")
        if not grant:
            raise OAuthError("invalid_request", "missing grant_type")
        if grant == "client_credentials":
            client = self._authenticate_client(client_id, secret)
            scopes = self._check_scopes(params.get("scope"), client["scopes"])
            return self._issue(client, scopes, refresh=False)
        if grant == "authorization_code":
            return self._exchange_code(params, client_id, secret)
        if grant == "refresh_token":
            client = self._authenticate_client(client_id, secret, secret_optional=True)
            return self._refresh(client, params)
        raise OAuthError("unsupported_grant_type", f"grant_type {grant!r} is not supported")

    def _issue(
        self, client: dict[str, Any], scopes: list[str], *, refresh: bool, refresh_token: str | None = None
    ) -> dict[str, Any]:
        precise = self.clock.timestamp()
        now = int(precise)
        claims = {
            "iss": self.issuer,
            "sub": client["client_id"],
            "aud": self.issuer,
            "iat": now,
            "exp": now + ACCESS_TOKEN_TTL,
            "jti": secrets.token_hex(12),
            "scope": " ".join(scopes),
            "uid": client.get("user_id"),
            "iatf": precise,  # sub-second issue time, so revoke-all is exact
        }
        out: dict[str, Any] = {
            "access_token": jwt.encode(claims, self._key, algorithm="HS256"),
            "token_type": "bearer",
            "expires_in": ACCESS_TOKEN_TTL,
            "scope": " ".join(scopes),
            "created_at": now,
        }
        if refresh and "offline_access" in scopes:
            if refresh_token is None:
                refresh_token = secrets.token_urlsafe(32)
                self.store.put_meta(
                    "_grants",
                    _hash_secret(refresh_token),
                    {
                        "client_id": client["client_id"],
                        "scopes": scopes,
                        "expires_at": now + REFRESH_TOKEN_TTL,
                    },
                    kind="refresh",
                )
            out["refresh_token"] = refresh_token
        return out

    def _exchange_code(self, params: dict[str, str], client_id: str | None, secret: str | None) -> dict[str, Any]:
        code = params.get("code")
        if not code:
            raise OAuthError("invalid_request", "missing code")
        grant = self.store.get_meta("_grants", _hash_secret(code))
        if grant is None or grant.get("kind") != "code":
            raise OAuthError("invalid_grant", "authorization code is invalid or was already used")
        self.store.delete_meta("_grants", _hash_secret(code))  # single use, even when the rest fails
        client = self._authenticate_client(client_id, secret, secret_optional=bool(grant.get("code_challenge")))
        if grant["client_id"] != client["client_id"]:
            raise OAuthError("invalid_grant", "authorization code was issued to another client")
        if grant["expires_at"] < self.clock.timestamp():
            raise OAuthError("invalid_grant", "authorization code has expired")
        if grant.get("redirect_uri") and params.get("redirect_uri") != grant["redirect_uri"]:
            raise OAuthError("invalid_grant", "redirect_uri does not match the authorization request")
        challenge = grant.get("code_challenge")
        if challenge:
            verifier = params.get("code_verifier") or ""
            if not 43 <= len(verifier) <= 128:
                raise OAuthError("invalid_grant", "code_verifier must be 43 to 128 characters")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if not hmac.compare_digest(digest, challenge):
                raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge")
        return self._issue(client, grant["scopes"], refresh=True)

    def _refresh(self, client: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
        token = params.get("refresh_token")
        if not token:
            raise OAuthError("invalid_request", "missing refresh_token")
        grant = self.store.get_meta("_grants", _hash_secret(token))
        if grant is None or grant.get("client_id") != client["client_id"]:
            raise OAuthError("invalid_grant", "refresh token is invalid")
        if grant["expires_at"] < self.clock.timestamp():
            raise OAuthError("invalid_grant", "refresh token has expired")
        if grant.get("revoked"):
            raise OAuthError("invalid_grant", "refresh token was revoked")
        scopes = self._check_scopes(params.get("scope"), grant["scopes"])
        return self._issue(client, scopes, refresh=True, refresh_token=token)

    # -- consent (authorization code) ------------------------------------------------------------
    def validate_authorization(self, params: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
        """Check an authorization request before showing the consent page (errors are not redirected)."""
        client = self.client(params.get("client_id") or "")
        if client is None:
            raise OAuthError("invalid_client", "unknown client_id")
        redirect_uri = params.get("redirect_uri") or ""
        parts = urlsplit(redirect_uri)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise OAuthError("invalid_request", "redirect_uri must be an absolute http(s) URL")
        if client["redirect_uris"] and redirect_uri not in client["redirect_uris"]:
            raise OAuthError("invalid_request", "redirect_uri is not registered for this client")
        if params.get("response_type") != "code":
            raise OAuthError("unsupported_response_type", "response_type must be code")
        method = params.get("code_challenge_method")
        if params.get("code_challenge") and (method or "plain") != "S256":
            raise OAuthError("invalid_request", "code_challenge_method must be S256")
        scopes = self._check_scopes(params.get("scope"), client["scopes"])
        return client, scopes

    def issue_code(self, params: dict[str, str], client: dict[str, Any], scopes: list[str]) -> str:
        code = secrets.token_urlsafe(24)
        self.store.put_meta(
            "_grants",
            _hash_secret(code),
            {
                "kind": "code",
                "client_id": client["client_id"],
                "scopes": scopes,
                "redirect_uri": params.get("redirect_uri"),
                "code_challenge": params.get("code_challenge"),
                "expires_at": self.clock.timestamp() + AUTH_CODE_TTL,
            },
            kind="code",
        )
        return code

    # -- checking tokens on /api -----------------------------------------------------------------
    def revoke_all(self) -> None:
        """Every token issued so far stops working (refresh tokens too)."""
        self.store.set_setting("revoked_before", self.clock.timestamp())
        self.store.execute("UPDATE _grants SET doc = json_set(doc, '$.revoked', json('true')) WHERE kind = 'refresh'")

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=["HS256"],
                audience=self.issuer,
                options={"verify_exp": False, "verify_iat": False},
            )
        except jwt.PyJWTError as exc:
            raise TokenRejected("Invalid access token") from exc
        if claims.get("exp", 0) <= self.clock.timestamp():
            raise TokenRejected("Access token has expired")
        revoked_before = self.store.setting("revoked_before")
        if revoked_before is not None and claims.get("iatf", claims.get("iat", 0)) <= revoked_before:
            raise TokenRejected("Access token has been revoked")
        client = self.client(str(claims.get("sub")))
        if client is None:
            raise TokenRejected("Access token belongs to a deleted client")
        return Principal(
            str(claims["sub"]), frozenset(str(claims.get("scope", "")).split()), claims.get("uid"), "bearer"
        )

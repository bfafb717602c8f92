"""Who the console acts for: a visitor's own sign-in (email + password through the API) or
pasted API key, kept per browser session; and when the server's own CAIRN_API_KEY may stand
in for a visitor who did not sign in (loopback only, and only when explicitly enabled)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
SIGN_IN_FIRST = (
    "Sign in first: your email and password, or paste an API key (at the top of the console)."
)


@dataclass
class Credentials:
    """Who the console acts for, kept per browser session (in a gr.State): a pasted API key,
    or the tokens of an email + password sign-in (refreshed in place when they expire)."""

    api_key: str = ""
    email: str = ""
    access_token: str = ""
    refresh_token: str = ""
    access_expires_at: float = 0.0

    @property
    def signed_in(self) -> bool:
        return bool(self.api_key or self.refresh_token)

    def clear(self) -> None:
        self.api_key = self.email = self.access_token = self.refresh_token = ""
        self.access_expires_at = 0.0

    def take_tokens(self, body: dict[str, Any]) -> None:
        self.access_token = str(body["access_token"])
        self.refresh_token = str(body["refresh_token"])
        self.access_expires_at = time.time() + float(body.get("expires_in") or 60)

    def describe(self) -> str:
        if self.api_key:
            return f"Using the API key `{self.api_key[:11]}…`."
        if self.refresh_token:
            return f"Signed in as **{self.email}**."
        if server_key_allowed() and env_server_key():
            return "Not signed in: the console's own CAIRN_API_KEY is used (loopback only)."
        return "Not signed in."


Auth = Credentials | str | None


def env_server_key() -> str:
    return os.environ.get("CAIRN_API_KEY", "").strip()


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def listens_on_loopback() -> bool:
    """The console's own listening address (GRADIO_SERVER_NAME, default 127.0.0.1)."""
    return os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1").strip().lower() in LOOPBACK_NAMES


def server_key_allowed() -> bool:
    """CAIRN_API_KEY acts for visitors who did not sign in only when the console listens on
    loopback AND CONSOLE_USE_SERVER_KEY=true: otherwise anyone who can reach the console
    would act as that key's owner."""
    return listens_on_loopback() and _truthy(os.environ.get("CONSOLE_USE_SERVER_KEY"))


def env_api_key() -> str:
    """The server-side key, when it may be used (see server_key_allowed); else ""."""
    return env_server_key() if server_key_allowed() else ""

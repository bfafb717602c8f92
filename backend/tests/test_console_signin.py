"""The console's own sign-in against the live API: email + password (tokens per browser
session, refreshed in place), a pasted key, and the server's CAIRN_API_KEY only on loopback
with CONSOLE_USE_SERVER_KEY=true; without credentials every tab says "sign in first"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.test_console import ID, api_client, closed_port_url, h, ingest


@pytest.fixture
def no_server_key(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("CAIRN_API_KEY", "CONSOLE_USE_SERVER_KEY", "GRADIO_SERVER_NAME"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_sign_in_with_email_and_password_lists_that_users_documents(
    api_url: str, tmp_path: Path, collection_name: str, no_server_key: Any
) -> None:
    from tests.auth_fixtures import create_test_user

    user = create_test_user()
    creds, msg = h.sign_in(api_url, api_client.Credentials(), user.email.upper(), user.password)
    assert creds.signed_in and user.email in msg and "Signed in" in msg
    assert not creds.api_key and creds.access_token and creds.refresh_token
    doc_id = ingest(api_url, creds, tmp_path, collection_name)  # acts as that user
    rows, msg = h.list_documents(api_url, creds, h.ALL, collection_name)
    assert [r[ID] for r in rows] == [doc_id], msg
    # The same upload is not visible to another user (it really acted as the signed-in one).
    other = create_test_user()
    rows, _ = h.list_documents(api_url, other.api_key, h.ALL, collection_name)
    assert rows == []


def test_an_expired_access_token_is_refreshed_in_place(
    api_url: str, no_server_key: Any
) -> None:
    from tests.auth_fixtures import create_test_user

    user = create_test_user()
    creds, _ = h.sign_in(api_url, None, user.email, user.password)
    first_refresh = creds.refresh_token
    creds.access_expires_at = 0.0  # as if the access token had run out
    _, msg = h.list_documents(api_url, creds, h.ALL, "")
    assert not msg.startswith("**Error"), msg
    assert creds.refresh_token != first_refresh and creds.access_expires_at > 0
    creds.access_token = "not-a-jwt"  # the API refuses it: the client refreshes once more
    creds.access_expires_at = 1e12
    _, msg = h.list_documents(api_url, creds, h.ALL, "")
    assert "401" in msg  # a bad (not expired) token is not silently replaced


def test_a_wrong_password_shows_a_clear_message(api_url: str, no_server_key: Any) -> None:
    from tests.auth_fixtures import create_test_user

    user = create_test_user()
    creds, msg = h.sign_in(api_url, None, user.email, "wrong-password-123")
    assert not creds.signed_in
    assert msg == "**Sign-in failed:** wrong email or password (or the account is off)."
    rows, msg = h.list_documents(api_url, creds, h.ALL, "")
    assert rows == [] and "Sign in first" in msg


def test_sign_in_without_a_password_asks_for_one(no_server_key: Any) -> None:
    creds, msg = h.sign_in(closed_port_url(), None, "someone@cairn.test", "")
    assert not creds.signed_in and "password" in msg


@pytest.mark.parametrize(
    "call",
    [
        lambda url, t: h.upload_files(url, None, [], "c", "", False)[-1],
        lambda url, t: h.list_documents(url, None, h.ALL, "")[-1],
        lambda url, t: h.run_search(url, None, "ice", 3, "")[-1],
        lambda url, t: h.collection_choices(url, None)[-1],
        lambda url, t: h.document_details(url, None, "00000000-0000-0000-0000-000000000000")[-1],
        lambda url, t: h.download_document(url, None, "00000000-0000-0000-0000-000000000000")[-1],
        lambda url, t: h.delete_document(url, None, "00000000-0000-0000-0000-000000000000"),
    ],
    ids=["upload", "documents", "search", "collections", "details", "download", "delete"],
)
def test_without_credentials_every_tab_says_sign_in_first(
    call: Any, api_url: str, api_key: str, no_server_key: Any
) -> None:
    no_server_key.setenv("CAIRN_API_KEY", api_key)  # present, but not enabled
    msg = call(api_url, None)
    assert "Sign in first" in msg, msg


@pytest.mark.parametrize(
    ("listen", "flag"),
    [("0.0.0.0", "true"), ("192.168.1.10", "true"), ("127.0.0.1", ""), ("127.0.0.1", "false")],
)
def test_the_server_key_is_ignored_unless_on_loopback_and_enabled(
    api_url: str, api_key: str, no_server_key: Any, listen: str, flag: str
) -> None:
    no_server_key.setenv("CAIRN_API_KEY", api_key)
    no_server_key.setenv("GRADIO_SERVER_NAME", listen)
    if flag:
        no_server_key.setenv("CONSOLE_USE_SERVER_KEY", flag)
    rows, msg = h.list_documents(api_url, None, h.ALL, "")
    assert rows == [] and "Sign in first" in msg, msg
    assert not api_client.server_key_allowed()


@pytest.mark.parametrize("listen", ["127.0.0.1", "localhost", "::1", None])
def test_the_server_key_acts_on_loopback_when_enabled(
    api_url: str, api_key: str, no_server_key: Any, listen: str | None
) -> None:
    no_server_key.setenv("CAIRN_API_KEY", api_key)
    no_server_key.setenv("CONSOLE_USE_SERVER_KEY", "true")
    if listen is not None:
        no_server_key.setenv("GRADIO_SERVER_NAME", listen)
    _, msg = h.list_documents(api_url, None, h.ALL, "")
    assert not msg.startswith("**Error"), msg
    # a visitor's own sign-in or key still wins over the server key
    assert api_client.ApiClient("http://x", "typed")._headers()["Authorization"] == "Bearer typed"


def test_against_an_api_in_single_user_mode_no_sign_in_is_needed(
    api_url: str, no_server_key: Any
) -> None:
    from app.core.config import get_settings

    settings = get_settings()
    api_client._auth_mode.clear()
    settings.auth_enabled = False
    try:
        _, msg = h.list_documents(api_url, None, h.ALL, "")
        assert not msg.startswith("**Error"), msg
    finally:
        settings.auth_enabled = True
        api_client._auth_mode.clear()
    _, msg = h.list_documents(api_url, None, h.ALL, "")
    assert "Sign in first" in msg


def test_a_pasted_key_replaces_a_sign_in_and_sign_out_forgets_both(no_server_key: Any) -> None:
    creds = api_client.Credentials(email="a@b.test", access_token="t", refresh_token="r",
                                   access_expires_at=1e12)
    creds, msg = h.use_api_key(creds, " ck_pasted ")
    assert creds.api_key == "ck_pasted" and not creds.refresh_token and "ck_pasted" in msg
    assert api_client.ApiClient("http://x", creds)._headers()["Authorization"] == (
        "Bearer ck_pasted"
    )
    creds, msg = h.sign_out(creds)
    assert not creds.signed_in and "Signed out" in msg
    creds, msg = h.use_api_key(creds, "  ")
    assert not creds.signed_in and "paste an API key" in msg

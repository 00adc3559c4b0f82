"""Login and roles in the dashboard: who may see it (allowed e-mails/domains) and who may edit.

With OIDC settings present, `hybridcost serve` writes Streamlit's [auth] secrets and every page
needs `st.user.is_logged_in` and an allowed address. Without them login is off, the server only
binds loopback (unless --insecure), and edits are allowed only when it listens on loopback.
"""

from __future__ import annotations

import streamlit as st

from models.infra.settings import Settings, get_settings

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def is_allowed(email: str | None, settings: Settings) -> bool:
    """True when the address is listed, or its domain is, in the allowed settings."""
    if not email or "@" not in email:
        return False
    email = email.strip().lower()
    return email in settings.allowed_email_set or email.rsplit("@", 1)[1] in settings.allowed_domain_set


def is_editor(email: str | None, settings: Settings) -> bool:
    """True when the address is one of HYBRIDCOST_EDITOR_EMAILS (and allowed at all)."""
    return bool(email) and is_allowed(email, settings) and email.strip().lower() in settings.editor_email_set


def _user_email() -> str | None:
    """The signed-in user's e-mail, or None; an address the provider marks unverified does not count."""
    if not st.user.is_logged_in:
        return None
    if st.user.get("email_verified") is False:
        return None
    email = st.user.get("email")
    return str(email) if email else None


def require_login() -> None:
    """Stop the page unless login is off or the user is signed in with an allowed address."""
    settings = get_settings()
    if not settings.login_configured:
        return
    if not st.user.is_logged_in:
        st.title("hybridcost")
        st.write("Sign in to see AI spend and GPU economics.")
        st.button("Log in", on_click=st.login, type="primary")
        st.stop()
    email = _user_email()
    if not is_allowed(email, settings):
        st.title("hybridcost")
        st.error(f"{email or 'This account'} is not allowed to use this dashboard. "
                 "Ask an administrator to add your address or domain.")
        st.button("Log out", on_click=st.logout)
        st.stop()
    with st.sidebar:
        st.caption(f"Signed in as {email}" + (" · editor" if is_editor(email, settings) else ""))
        st.button("Log out", on_click=st.logout, key="hybridcost_logout")


def can_edit() -> bool:
    """True when the current user may change data (editors with login; local use without it)."""
    settings = get_settings()
    if not settings.login_configured:
        return (st.get_option("server.address") or "") in LOOPBACK
    return is_editor(_user_email(), settings)


def actor() -> str | None:
    """Who edits, for the audit log: the signed-in e-mail, or None (the OS user) without login."""
    return _user_email() if get_settings().login_configured else None

"""One-shot messages that survive the rerun after an edit (so tables above a form show the new state)."""

from __future__ import annotations

import streamlit as st

KEY = "flash_messages"


def flash_and_rerun(message: str) -> None:
    """Remember a success message for the next run, then rerun the page."""
    st.session_state.setdefault(KEY, []).append(message)
    st.rerun()


def show_flashes() -> None:
    """Show and forget the messages left by the previous run."""
    for message in st.session_state.pop(KEY, []):
        st.success(message)

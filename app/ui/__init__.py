"""Streamlit helpers shared by pages: the cached engine, cached loaders, filters, formatting."""

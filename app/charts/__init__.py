"""Chart functions: a DataFrame in, a Plotly figure out; no Streamlit (reports reuse them)."""

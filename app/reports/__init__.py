"""Weekly report rendering (HTML, PDF, XLSX), the FOCUS export and report e-mail; no Streamlit."""

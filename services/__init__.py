"""Domain logic. No module here imports streamlit: every rule is testable without a UI."""

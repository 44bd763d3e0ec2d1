"""Conversation cases (cases_*.yaml), the vendored eval harness (run_eval.py) and the project harness."""

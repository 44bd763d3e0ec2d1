"""Staff and maintenance tools: the CLI (python -m bot), the staff page and page server, the report, purge,
registry upkeep, ask and the NLU evaluation. They may import every other layer; nothing imports them."""

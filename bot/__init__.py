"""Filmregionerna bot: registry of Sweden's regional film centres, Swedish text handling, answers."""

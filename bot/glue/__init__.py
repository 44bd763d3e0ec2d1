"""Rasa glue: the NLU components, NumPy inference, the feedback policy, the NLG, the tracker and lock stores,
and every patch of Rasa internals (rasa_patches.install_all). Imports the core (bot/*.py), never bot.tools."""

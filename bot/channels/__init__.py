"""Channel glue for Rasa (this package may import Rasa)."""

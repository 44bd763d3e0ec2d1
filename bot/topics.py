"""Topics the bot answers, and how intents map to them."""
from __future__ import annotations

OFFER_KINDS = (
    "production_funding",
    "short_film",
    "documentary",
    "feature",
    "talent_development",
    "film_for_children_and_youth",
    "screenings_and_film_culture",
    "film_commission",
    "equipment_loan",
    "education_and_courses",
    "other",
)

INTENT_TOPICS = {
    "ask_production_funding": "production_funding",
    "ask_short_film": "short_film",
    "ask_documentary": "documentary",
    "ask_feature": "feature",
    "ask_talent_development": "talent_development",
    "ask_children_youth": "film_for_children_and_youth",
    "ask_screenings": "screenings_and_film_culture",
    "ask_film_commission": "film_commission",
    "ask_equipment_loan": "equipment_loan",
    "ask_courses": "education_and_courses",
    "ask_contact": "contact",
    "which_centre": "centre",
}
TOPIC_INTENTS = {topic: intent for intent, topic in INTENT_TOPICS.items()}

# When a centre has no sourced offer of a kind, these kinds answer the question in part
# (a general production fund covers short film, for instance).
RELATED_KINDS = {
    "short_film": ("production_funding",),
    "documentary": ("production_funding", "short_film"),
    "feature": ("production_funding",),
    "production_funding": ("short_film", "documentary", "feature"),
    "talent_development": ("short_film",),
    "education_and_courses": ("talent_development", "film_for_children_and_youth"),
}

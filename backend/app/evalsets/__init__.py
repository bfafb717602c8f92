"""Golden sets per collection: a user's own judged queries, scored in every search mode."""

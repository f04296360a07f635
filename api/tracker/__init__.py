"""The ceasefire tracker stage: mentions on articles.enriched -> ceasefire records in the store."""

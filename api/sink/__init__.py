"""The store sink stage: articles.enriched -> story assignment -> the store."""

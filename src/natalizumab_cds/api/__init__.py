"""The REST API (FastAPI): routes call the clinic's use cases, never the database."""

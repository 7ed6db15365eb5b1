"""Files the Glue service copies onto every job's PYTHONPATH (never imported by the service itself)."""

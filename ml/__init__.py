"""cloudsword's library: contracts, generator, ingestion, features glue, models, network, leads.

This package never imports dagster, so every piece can be tested and reused on its own.
"""

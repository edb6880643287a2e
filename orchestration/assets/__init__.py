"""Assets by stage: ingest -> features (dbt) -> model -> scores -> network -> leads."""

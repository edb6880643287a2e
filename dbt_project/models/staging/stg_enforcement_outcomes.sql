-- enforcement_outcomes, deduplicated.
-- event table: append-only, the first occurrence of a key wins.
{{ config(materialized='incremental', incremental_strategy='append') }}
with deduplicated as (
    {{ first_occurrence(source('raw', 'enforcement_outcomes'), ['case_ref']) }}
)

select
    cast(case_ref as VARCHAR) as case_ref,
    cast(entity_type as VARCHAR) as entity_type,
    cast(entity_id as VARCHAR) as entity_id,
    cast(outcome as VARCHAR) as outcome,
    cast(source as VARCHAR) as source,
    cast(decided_at as TIMESTAMP) as decided_at,
    _batch_id,
    _ingested_at
from deduplicated

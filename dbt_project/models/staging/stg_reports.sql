-- reports, deduplicated.
-- event table: append-only, the first occurrence of a key wins.
{{ config(materialized='incremental', incremental_strategy='append') }}
with deduplicated as (
    {{ first_occurrence(source('raw', 'reports'), ['report_id']) }}
)

select
    cast(report_id as VARCHAR) as report_id,
    cast(listing_id as VARCHAR) as listing_id,
    cast(seller_id as VARCHAR) as seller_id,
    cast(reporter_type as VARCHAR) as reporter_type,
    cast(reason as VARCHAR) as reason,
    cast(text as VARCHAR) as text,
    cast(created_at as TIMESTAMP) as created_at,
    _batch_id,
    _ingested_at
from deduplicated

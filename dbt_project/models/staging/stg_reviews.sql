-- reviews, deduplicated.
-- event table: append-only, the first occurrence of a key wins.
{{ config(materialized='incremental', incremental_strategy='append') }}
with deduplicated as (
    {{ first_occurrence(source('raw', 'reviews'), ['review_id']) }}
)

select
    cast(review_id as VARCHAR) as review_id,
    cast(listing_id as VARCHAR) as listing_id,
    cast(buyer_id as VARCHAR) as buyer_id,
    cast(rating as BIGINT) as rating,
    cast(text as VARCHAR) as text,
    cast(created_at as TIMESTAMP) as created_at,
    _batch_id,
    _ingested_at
from deduplicated

-- brand_authorizations, deduplicated.
-- event table: append-only, the first occurrence of a key wins.
{{ config(materialized='incremental', incremental_strategy='append') }}
with deduplicated as (
    {{ first_occurrence(source('raw', 'brand_authorizations'), ['brand', 'seller_id']) }}
)

select
    cast(brand as VARCHAR) as brand,
    cast(seller_id as VARCHAR) as seller_id,
    cast(authorized_since as TIMESTAMP) as authorized_since,
    _batch_id,
    _ingested_at
from deduplicated

-- orders, deduplicated.
-- event table: append-only, the first occurrence of a key wins.
{{ config(materialized='incremental', incremental_strategy='append') }}
with deduplicated as (
    {{ first_occurrence(source('raw', 'orders'), ['order_id']) }}
)

select
    cast(order_id as VARCHAR) as order_id,
    cast(listing_id as VARCHAR) as listing_id,
    cast(buyer_id as VARCHAR) as buyer_id,
    cast(quantity as BIGINT) as quantity,
    cast(unit_price as DOUBLE) as unit_price,
    cast(paid_at as TIMESTAMP) as paid_at,
    cast(buyer_province as VARCHAR) as buyer_province,
    cast(buyer_city as VARCHAR) as buyer_city,
    cast(refund_requested as BOOLEAN) as refund_requested,
    _batch_id,
    _ingested_at
from deduplicated

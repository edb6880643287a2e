-- inbound_shipments, deduplicated.
-- event table: append-only, the first occurrence of a key wins.
{{ config(materialized='incremental', incremental_strategy='append') }}
with deduplicated as (
    {{ first_occurrence(source('raw', 'inbound_shipments'), ['shipment_id']) }}
)

select
    cast(shipment_id as VARCHAR) as shipment_id,
    cast(seller_id as VARCHAR) as seller_id,
    cast(sender_name as VARCHAR) as sender_name,
    cast(sender_address as VARCHAR) as sender_address,
    cast(sender_city as VARCHAR) as sender_city,
    cast(sender_phone as VARCHAR) as sender_phone,
    cast(weight_kg as DOUBLE) as weight_kg,
    cast(declared_category as VARCHAR) as declared_category,
    cast(received_at as TIMESTAMP) as received_at,
    _batch_id,
    _ingested_at
from deduplicated

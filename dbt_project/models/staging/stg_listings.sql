-- listings, deduplicated.
-- entity table: the row of the latest batch wins, then the last row in its file.
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='listing_id') }}
with deduplicated as (
    {{ latest_version(source('raw', 'listings'), ['listing_id']) }}
)

select
    cast(listing_id as VARCHAR) as listing_id,
    cast(seller_id as VARCHAR) as seller_id,
    cast(brand as VARCHAR) as brand,
    cast(category as VARCHAR) as category,
    cast(title as VARCHAR) as title,
    cast(description as VARCHAR) as description,
    cast(price as DOUBLE) as price,
    cast(created_at as TIMESTAMP) as created_at,
    cast(image_phash as VARCHAR) as image_phash,
    cast(ship_from_city as VARCHAR) as ship_from_city,
    cast(ship_from_address as VARCHAR) as ship_from_address,
    cast(status as VARCHAR) as status,
    _batch_id,
    _ingested_at
from deduplicated

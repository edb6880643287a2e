-- brands, deduplicated.
-- entity table: the row of the latest batch wins, then the last row in its file.
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='brand') }}
with deduplicated as (
    {{ latest_version(source('raw', 'brands'), ['brand']) }}
)

select
    cast(brand as VARCHAR) as brand,
    cast(category as VARCHAR) as category,
    cast(reference_price as DOUBLE) as reference_price,
    cast(rights_holder as VARCHAR) as rights_holder,
    _batch_id,
    _ingested_at
from deduplicated

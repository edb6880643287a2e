-- sellers, deduplicated.
-- entity table: the row of the latest batch wins, then the last row in its file.
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='seller_id') }}
with deduplicated as (
    {{ latest_version(source('raw', 'sellers'), ['seller_id']) }}
)

select
    cast(seller_id as VARCHAR) as seller_id,
    cast(shop_name as VARCHAR) as shop_name,
    cast(registered_at as TIMESTAMP) as registered_at,
    cast(province as VARCHAR) as province,
    cast(city as VARCHAR) as city,
    cast(business_license as VARCHAR) as business_license,
    cast(phone as VARCHAR) as phone,
    cast(email as VARCHAR) as email,
    cast(id_document_hash as VARCHAR) as id_document_hash,
    _batch_id,
    _ingested_at
from deduplicated

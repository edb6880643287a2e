-- seller_logins, deduplicated.
-- event table: append-only, the first occurrence of a key wins.
{{ config(materialized='incremental', incremental_strategy='append') }}
with deduplicated as (
    {{ first_occurrence(source('raw', 'seller_logins'), ['seller_id', 'device_id', 'ip', 'logged_in_at']) }}
)

select
    cast(seller_id as VARCHAR) as seller_id,
    cast(device_id as VARCHAR) as device_id,
    cast(ip as VARCHAR) as ip,
    cast(logged_in_at as TIMESTAMP) as logged_in_at,
    _batch_id,
    _ingested_at
from deduplicated

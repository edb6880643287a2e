-- seller_payment_accounts, deduplicated.
-- event table: append-only, the first occurrence of a key wins.
{{ config(materialized='incremental', incremental_strategy='append') }}
with deduplicated as (
    {{ first_occurrence(source('raw', 'seller_payment_accounts'), ['seller_id', 'account_type', 'account_ref']) }}
)

select
    cast(seller_id as VARCHAR) as seller_id,
    cast(account_type as VARCHAR) as account_type,
    cast(account_ref as VARCHAR) as account_ref,
    cast(bank_name as VARCHAR) as bank_name,
    cast(holder_name as VARCHAR) as holder_name,
    cast(first_seen_at as TIMESTAMP) as first_seen_at,
    _batch_id,
    _ingested_at
from deduplicated

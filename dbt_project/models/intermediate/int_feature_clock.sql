-- The "now" of the data: one second after the latest timestamp anywhere in the warehouse.
-- listing_features and seller_features are computed as of this instant. It is derived from the
-- data, not the wall clock, so re-running on the same data gives the same features.
with stamps as (
    select max(created_at) as ts from {{ ref('stg_listings') }}
    union all select max(registered_at) from {{ ref('stg_sellers') }}
    union all select max(authorized_since) from {{ ref('stg_brand_authorizations') }}
    union all select max(first_seen_at) from {{ ref('stg_seller_payment_accounts') }}
    union all select max(logged_in_at) from {{ ref('stg_seller_logins') }}
    union all select max(paid_at) from {{ ref('stg_orders') }}
    union all select max(created_at) from {{ ref('stg_reviews') }}
    union all select max(created_at) from {{ ref('stg_reports') }}
    union all select max(received_at) from {{ ref('stg_inbound_shipments') }}
    union all select max(decided_at) from {{ ref('stg_enforcement_outcomes') }}
)

select coalesce(max(ts), timestamp '1970-01-01') + interval 1 second as as_of
from stamps

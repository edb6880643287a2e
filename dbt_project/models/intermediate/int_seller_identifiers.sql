-- Every identifier a seller is known by, with when it was first seen on that seller. Sellers
-- that share an identifier (payment account, device, IP, phone, ...) are likely one operation.
-- Values are normalised lightly (case, spacing, punctuation) so trivial variants still match;
-- fuzzier matching of addresses is the network stage's job.
{%- set digits = "regexp_replace({col}, '[^0-9]', '', 'g')" %}
{%- set squash = "regexp_replace(lower({col}), '[\\s[:punct:]]+', '', 'g')" %}

with identifiers as (
    select seller_id, 'payment_account' as identifier_kind,
        account_type || ':' || {{ squash.format(col='account_ref') }} as identifier, first_seen_at
    from {{ ref('stg_seller_payment_accounts') }}
    union all
    select seller_id, 'payment_holder', {{ squash.format(col='holder_name') }}, first_seen_at
    from {{ ref('stg_seller_payment_accounts') }}
    union all
    select seller_id, 'device', device_id, logged_in_at from {{ ref('stg_seller_logins') }}
    union all
    select seller_id, 'ip', ip, logged_in_at from {{ ref('stg_seller_logins') }}
    union all
    -- Registration details come from the seller's current version; first seen at registration.
    select seller_id, 'phone', {{ digits.format(col='phone') }}, registered_at from {{ ref('stg_sellers') }}
    union all
    select seller_id, 'email', lower(trim(email)), registered_at from {{ ref('stg_sellers') }}
    union all
    select seller_id, 'id_document', id_document_hash, registered_at from {{ ref('stg_sellers') }}
    union all
    select seller_id, 'business_license', {{ squash.format(col='business_license') }}, registered_at
    from {{ ref('stg_sellers') }}
    union all
    select seller_id, 'sender_address', {{ squash.format(col='sender_address') }}, received_at
    from {{ ref('stg_inbound_shipments') }}
    union all
    select seller_id, 'sender_phone', {{ digits.format(col='sender_phone') }}, received_at
    from {{ ref('stg_inbound_shipments') }}
)

select seller_id, identifier_kind, identifier, min(first_seen_at) as first_seen_at
from identifiers
where identifier is not null and length(identifier) >= 3
group by all

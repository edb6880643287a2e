-- Seller-behaviour features (sell_*) of each (seller, as_of): account age and registration
-- completeness, listing activity and brand mix, authorizations, payment accounts, log-ins,
-- identifiers shared with other sellers, and inbound shipments, from events before as_of.
-- Registration details and listing attributes come from their current version.
-- The CTEs below are the event sets of the spec group `seller_behaviour` (dbt_project.yml): the
-- aggregates over them and the final select list, in column order, come from the spec;
-- `bespoke` computes the features the spec only declares.
{%- set identifier_kinds = var('identifier_kinds').keys() | list %}
{%- set shop_cues = text_cue_flags('lower(s.shop_name)', 'listing_text_cues') %}
{%- set features = feature_group('seller_behaviour', 'seller') %}

with spine as (
    select seller_id, as_of from {{ ref('int_seller_spine') }}
),

listings as (
    select s.seller_id, s.as_of, a.* exclude (seller_id),
        (auth.authorized_since is not null) as authorized
    from spine as s
    left join {{ ref('int_listing_attributes') }} as a
        on a.seller_id = s.seller_id and a.created_at < s.as_of
    left join {{ ref('stg_brand_authorizations') }} as auth
        on auth.seller_id = s.seller_id and auth.brand = a.brand and auth.authorized_since < s.as_of
),

listing_features as (
    select seller_id, as_of,
        {{ feature_aggregates(features, 'listings') | join(',\n        ') }},
        min(created_at) as first_listing_at
    from listings
    group by seller_id, as_of
),

brand_counts as (
    select seller_id, as_of, brand, count(*) as n,
        bool_or(brand_unknown = 0 and not authorized) as unauthorized
    from listings
    where brand is not null
    group by all
),

brand_features as (
    select seller_id, as_of,
        {{ feature_aggregates(features, 'brand_counts') | join(',\n        ') }}
    from brand_counts
    group by seller_id, as_of
),

listing_days as (
    select seller_id, as_of, created_at::date as day, count(*) as n
    from listings
    where created_at is not null
    group by all
),

listing_burst as (
    select seller_id, as_of,
        {{ feature_aggregates(features, 'listing_days') | join(',\n        ') }}
    from listing_days
    group by seller_id, as_of
),

authorizations as (
    select s.seller_id, s.as_of,
        {{ feature_aggregates(features, 'authorizations', 's.as_of') | join(',\n        ') }}
    from spine as s
    inner join {{ ref('stg_brand_authorizations') }} as a
        on a.seller_id = s.seller_id and a.authorized_since < s.as_of
    group by all
),

payments as (
    select s.seller_id, s.as_of,
        {{ feature_aggregates(features, 'payments', 's.as_of') | join(',\n        ') }}
    from spine as s
    left join {{ ref('stg_seller_payment_accounts') }} as p
        on p.seller_id = s.seller_id and p.first_seen_at < s.as_of
    group by all
),

login_identifiers as (
    -- Last use before as_of of each device and IP: one is "seen in a window" when its last use
    -- falls in it (cheaper than filtered count(distinct) at scale).
    select s.seller_id, s.as_of, v.kind, v.value, max(g.logged_in_at) as last_at
    from spine as s
    inner join {{ ref('stg_seller_logins') }} as g
        on g.seller_id = s.seller_id and g.logged_in_at < s.as_of
    cross join lateral (values ('device', g.device_id), ('ip', g.ip)) as v(kind, value)
    group by all
),

logins as (
    select seller_id, as_of,
        {{ feature_aggregates(features, 'login_identifiers') | join(',\n        ') }}
    from login_identifiers
    group by all
),

login_counts as (
    select s.seller_id, s.as_of,
        {{ feature_aggregates(features, 'logins', 's.as_of') | join(',\n        ') }}
    from spine as s
    inner join {{ ref('stg_seller_logins') }} as g
        on g.seller_id = s.seller_id and g.logged_in_at < s.as_of
    group by all
),

shipments as (
    select s.seller_id, s.as_of,
        {{ feature_aggregates(features, 'shipments', 's.as_of') | join(',\n        ') }}
    from spine as s
    left join {{ ref('stg_inbound_shipments') }} as i
        on i.seller_id = s.seller_id and i.received_at < s.as_of
    group by all
),

senders as (
    -- Distinct senders (normalised address) per window, via each sender's last shipment.
    select seller_id, as_of,
        {{ feature_aggregates(features, 'senders') | join(',\n        ') }}
    from (
        select s.seller_id, s.as_of, i.identifier, max(i.first_seen_at) as last_at
        from spine as s
        inner join (
            select seller_id, regexp_replace(lower(sender_address), '[\s[:punct:]]+', '', 'g') as identifier,
                received_at as first_seen_at
            from {{ ref('stg_inbound_shipments') }}
        ) as i on i.seller_id = s.seller_id and i.first_seen_at < s.as_of
        group by all
    )
    group by all
),

bespoke as (
    -- Registration details of the current version, shop-name cues, time to the first listing,
    -- and how many identifier kinds the seller shares with another.
    select
        sp.seller_id,
        sp.as_of,
        greatest({{ days_between('s.registered_at', 'sp.as_of') }}, 0) as sell_account_age_days,
        (s.business_license is not null)::int as sell_has_business_license,
        (s.phone is not null)::int as sell_has_phone,
        (s.email is not null)::int as sell_has_email,
        (s.id_document_hash is not null)::int as sell_has_id_document,
        ((s.business_license is not null)::int + (s.phone is not null)::int
            + (s.email is not null)::int + (s.id_document_hash is not null)::int) / 4.0
            as sell_registration_completeness_share,
        {%- for name, expr in shop_cues.items() %}{{ '(' if loop.first }}{{ expr }}{{ ' + ' if not loop.last else ')' }}{%- endfor %} as sell_shop_name_cues_n,
        greatest({{ days_between('s.registered_at', 'lf.first_listing_at') }}, 0) as sell_days_registration_to_first_listing,
        {%- for kind in identifier_kinds %}{{ '(' if loop.first }}(coalesce(si.sell_shared_{{ kind }}_sellers_n, 0) > 0)::int{{ ' + ' if not loop.last else ')' }}{%- endfor %}
            as sell_shared_identifier_kinds_n
    from spine as sp
    inner join {{ ref('stg_sellers') }} as s on s.seller_id = sp.seller_id
    left join listing_features as lf on lf.seller_id = sp.seller_id and lf.as_of = sp.as_of
    left join {{ ref('int_seller_shared_identifiers') }} as si
        on si.seller_id = sp.seller_id and si.as_of = sp.as_of
)

select
    sp.seller_id,
    sp.as_of,
    {{ feature_model_selects('int_seller_behaviour_features', {
        'bespoke': 'x', 'listings': 'lf', 'brand_counts': 'bf', 'listing_days': 'lb',
        'authorizations': 'au', 'payments': 'pa', 'logins': 'lc', 'login_identifiers': 'lo',
        'shipments': 'sh', 'senders': 'se', 'shared_identifiers': 'si'
    }) | join(',\n    ') }}
from spine as sp
inner join bespoke as x on x.seller_id = sp.seller_id and x.as_of = sp.as_of
left join listing_features as lf on lf.seller_id = sp.seller_id and lf.as_of = sp.as_of
left join brand_features as bf on bf.seller_id = sp.seller_id and bf.as_of = sp.as_of
left join listing_burst as lb on lb.seller_id = sp.seller_id and lb.as_of = sp.as_of
left join authorizations as au on au.seller_id = sp.seller_id and au.as_of = sp.as_of
left join payments as pa on pa.seller_id = sp.seller_id and pa.as_of = sp.as_of
left join logins as lo on lo.seller_id = sp.seller_id and lo.as_of = sp.as_of
left join shipments as sh on sh.seller_id = sp.seller_id and sh.as_of = sp.as_of
left join login_counts as lc on lc.seller_id = sp.seller_id and lc.as_of = sp.as_of
left join senders as se on se.seller_id = sp.seller_id and se.as_of = sp.as_of
-- Identifiers shared with other sellers: its own model, where big shared groups are handled
-- without enumerating all their pairs.
left join {{ ref('int_seller_shared_identifiers') }} as si
    on si.seller_id = sp.seller_id and si.as_of = sp.as_of

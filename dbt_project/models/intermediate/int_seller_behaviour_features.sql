-- Seller-behaviour features (sell_*) of each (seller, as_of): account age and registration
-- completeness, listing activity and brand mix, authorizations, payment accounts, log-ins,
-- identifiers shared with other sellers, and inbound shipments, from events before as_of.
-- Registration details and listing attributes come from their current version.
{%- set identifier_kinds = var('identifier_kinds').keys() | list %}
{%- set shop_cues = text_cue_flags('lower(s.shop_name)', 'listing_text_cues') %}

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
        {%- for w in feature_windows() %}
        count(created_at) filter (where {{ in_window('created_at', 'as_of', w) }}) as sell_listings_{{ window_suffix(w) }},
        {%- endfor %}
        count(distinct brand) as sell_brands_n,
        count(distinct category) as sell_categories_n,
        {{ safe_divide('count(created_at) filter (where has_brand = 1)', 'count(created_at)') }} as sell_branded_listing_share,
        {{ safe_divide('count(created_at) filter (where has_brand = 1 and brand_unknown = 0 and not authorized)',
                       'count(created_at) filter (where has_brand = 1 and brand_unknown = 0)') }} as sell_unauthorized_listing_share,
        {{ safe_divide('count(created_at) filter (where brand_unknown = 1)', 'count(created_at)') }} as sell_unknown_brand_listing_share,
        count(distinct ship_from_city) as sell_ship_from_cities_n,
        {{ safe_divide('sum(ship_from_other_city)', 'count(created_at)') }} as sell_ship_from_other_city_share,
        avg(price_to_ref) as sell_price_to_ref_mean,
        min(price_to_ref) as sell_price_to_ref_min,
        {{ safe_divide('count(created_at) filter (where price_to_ref < 0.5)', 'count(price_to_ref)') }} as sell_below_half_ref_share,
        {{ safe_divide('count(created_at) filter (where kw_cues_n > 0)', 'count(created_at)') }} as sell_kw_listing_share,
        avg(kw_cues_n) as sell_kw_cues_mean,
        {{ safe_divide('sum(category_mismatch)', 'count(created_at)') }} as sell_category_mismatch_share,
        {{ safe_divide('sum(image_missing)', 'count(created_at)') }} as sell_image_missing_share,
        {{ safe_divide('sum(description_missing)', 'count(created_at)') }} as sell_description_missing_share,
        avg(description_len) as sell_description_len_mean,
        {{ days_between('min(created_at)', 'any_value(as_of)') }} as sell_days_since_first_listing,
        {{ days_between('max(created_at)', 'any_value(as_of)') }} as sell_days_since_last_listing,
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
        {{ safe_divide('max(n)', 'sum(n)') }} as sell_top_brand_share,
        {{ safe_divide('sum(n * n)', 'sum(n) * sum(n)') }} as sell_brand_hhi,
        count(*) filter (where unauthorized) as sell_unauthorized_brands_n
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
        max(n) as sell_listing_burst_max_day_n,
        {{ safe_divide('max(n)', 'sum(n)') }} as sell_listing_burst_max_day_share
    from listing_days
    group by seller_id, as_of
),

authorizations as (
    select s.seller_id, s.as_of, count(*) as sell_authorized_brands_n
    from spine as s
    inner join {{ ref('stg_brand_authorizations') }} as a
        on a.seller_id = s.seller_id and a.authorized_since < s.as_of
    group by all
),

payments as (
    select s.seller_id, s.as_of,
        count(p.first_seen_at) as sell_payment_accounts_n,
        count(distinct p.account_type) as sell_payment_account_types_n,
        count(distinct p.bank_name) as sell_payment_banks_n,
        count(distinct p.holder_name) as sell_payment_holders_n,
        count(p.first_seen_at) filter (where {{ in_window('p.first_seen_at', 's.as_of', var('feature_windows') | last) }})
            as sell_payment_accounts_new_{{ var('feature_windows') | last }}d
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
        {%- for w in feature_windows() %}
        {%- set f = in_window('last_at', 'as_of', w) %}
        count(*) filter (where kind = 'device' and {{ f }}) as sell_login_devices_{{ window_suffix(w) }},
        count(*) filter (where kind = 'ip' and {{ f }}) as sell_login_ips_{{ window_suffix(w) }},
        {%- endfor %}
        {{ days_between('max(last_at)', 'any_value(as_of)') }} as sell_days_since_last_login
    from login_identifiers
    group by all
),

login_counts as (
    select s.seller_id, s.as_of,
        {%- for w in feature_windows() %}
        count(*) filter (where {{ in_window('g.logged_in_at', 's.as_of', w) }}) as sell_logins_{{ window_suffix(w) }}{{ ',' if not loop.last }}
        {%- endfor %}
    from spine as s
    inner join {{ ref('stg_seller_logins') }} as g
        on g.seller_id = s.seller_id and g.logged_in_at < s.as_of
    group by all
),

shipments as (
    select s.seller_id, s.as_of,
        {%- for w in feature_windows() %}
        {%- set f = in_window('i.received_at', 's.as_of', w) %}
        count(i.received_at) filter (where {{ f }}) as sell_inbound_shipments_{{ window_suffix(w) }},
        coalesce(sum(i.weight_kg) filter (where {{ f }}), 0) as sell_inbound_weight_kg_{{ window_suffix(w) }},
        {%- endfor %}
        count(distinct i.sender_city) as sell_inbound_sender_cities_n_all,
        avg(i.weight_kg) as sell_inbound_weight_kg_mean_all,
        {{ safe_divide('count(i.received_at) filter (where i.sender_name is null)', 'count(i.received_at)') }}
            as sell_inbound_missing_sender_name_share_all,
        {{ safe_divide('count(i.received_at) filter (where i.sender_phone is null)', 'count(i.received_at)') }}
            as sell_inbound_missing_sender_phone_share_all,
        {{ safe_divide('count(i.received_at) filter (where i.declared_category is null)', 'count(i.received_at)') }}
            as sell_inbound_undeclared_share_all,
        {{ days_between('max(i.received_at)', 'any_value(s.as_of)') }} as sell_days_since_last_inbound
    from spine as s
    left join {{ ref('stg_inbound_shipments') }} as i
        on i.seller_id = s.seller_id and i.received_at < s.as_of
    group by all
),

senders as (
    -- Distinct senders (normalised address) per window, via each sender's last shipment.
    select seller_id, as_of,
        {%- for w in feature_windows() %}
        count(*) filter (where {{ in_window('last_at', 'as_of', w) }}) as sell_inbound_senders_n_{{ window_suffix(w) }}{{ ',' if not loop.last }}
        {%- endfor %}
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
)

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
    lf.* exclude (seller_id, as_of, first_listing_at),
    greatest({{ days_between('s.registered_at', 'lf.first_listing_at') }}, 0) as sell_days_registration_to_first_listing,
    bf.sell_top_brand_share,
    bf.sell_brand_hhi,
    coalesce(bf.sell_unauthorized_brands_n, 0) as sell_unauthorized_brands_n,
    coalesce(lb.sell_listing_burst_max_day_n, 0) as sell_listing_burst_max_day_n,
    lb.sell_listing_burst_max_day_share,
    coalesce(au.sell_authorized_brands_n, 0) as sell_authorized_brands_n,
    pa.* exclude (seller_id, as_of),
    {%- for w in feature_windows() %}
    {%- set sfx = window_suffix(w) %}
    coalesce(lc.sell_logins_{{ sfx }}, 0) as sell_logins_{{ sfx }},
    coalesce(lo.sell_login_devices_{{ sfx }}, 0) as sell_login_devices_{{ sfx }},
    coalesce(lo.sell_login_ips_{{ sfx }}, 0) as sell_login_ips_{{ sfx }},
    {%- endfor %}
    lo.sell_days_since_last_login,
    sh.* exclude (seller_id, as_of),
    {%- for w in feature_windows() %}
    coalesce(se.sell_inbound_senders_n_{{ window_suffix(w) }}, 0) as sell_inbound_senders_n_{{ window_suffix(w) }},
    {%- endfor %}
    {%- for kind in identifier_kinds %}
    coalesce(si.sell_shared_{{ kind }}_sellers_n, 0) as sell_shared_{{ kind }}_sellers_n,
    {%- endfor %}
    coalesce(si.sell_shared_any_sellers_n, 0) as sell_shared_any_sellers_n,
    {%- for kind in identifier_kinds %}{{ '(' if loop.first }}(coalesce(si.sell_shared_{{ kind }}_sellers_n, 0) > 0)::int{{ ' + ' if not loop.last else ')' }}{%- endfor %}
        as sell_shared_identifier_kinds_n
from spine as sp
inner join {{ ref('stg_sellers') }} as s on s.seller_id = sp.seller_id
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

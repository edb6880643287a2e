-- Product features (prod_*) of each (listing, as_of) in the listing spine.
-- Comparisons with other listings (brand / category price statistics, reused images and titles)
-- only count listings created before as_of. They use running totals over creation time and an
-- ASOF join, so each spine row costs one lookup instead of a scan of its brand.
{%- set cues = var('listing_text_cues').keys() | list %}

with spine as (
    select s.listing_id, s.as_of, a.*  exclude (listing_id)
    from {{ ref('int_listing_spine') }} as s
    inner join {{ ref('int_listing_attributes') }} as a on a.listing_id = s.listing_id
),

{%- for group in ['brand', 'category'] %}

{{ group }}_price_history as (
    -- Running count / sums of price and log price over the group's listings by creation time.
    select
        {{ group }} as group_key,
        created_at,
        count(*) over w as n,
        sum(price) over w as sum_price,
        sum(price * price) over w as sum_price_sq,
        sum(ln(price)) over w as sum_log,
        sum(ln(price) * ln(price)) over w as sum_log_sq
    from {{ ref('int_listing_attributes') }}
    where {{ group }} is not null
    window w as (partition by {{ group }} order by created_at range between unbounded preceding and current row)
),

{{ group }}_price_stats as (
    select
        s.listing_id,
        s.as_of,
        coalesce(h.n, 0) as n,
        h.sum_price / h.n as mean_price,
        sqrt(greatest(h.sum_price_sq / h.n - (h.sum_price / h.n) ^ 2, 0)) as sd_price,
        h.sum_log / h.n as mean_log,
        sqrt(greatest(h.sum_log_sq / h.n - (h.sum_log / h.n) ^ 2, 0)) as sd_log
    from spine as s
    asof left join {{ group }}_price_history as h
        on h.group_key = s.{{ group }} and s.as_of > h.created_at
),
{%- endfor %}

{%- for key in ['image_phash', 'title_key'] %}

{{ key }}_seller_first as (
    -- When each seller first used the image / title.
    select {{ key }} as key, seller_id, min(created_at) as first_at
    from {{ ref('int_listing_attributes') }}
    where {{ key }} is not null
    group by all
),

{{ key }}_seller_history as (
    select key, first_at, count(*) over (partition by key order by first_at range between unbounded preceding and current row) as n_sellers
    from {{ key }}_seller_first
),

{{ key }}_listing_history as (
    select {{ key }} as key, created_at, count(*) over (partition by {{ key }} order by created_at range between unbounded preceding and current row) as n_listings
    from {{ ref('int_listing_attributes') }}
    where {{ key }} is not null
),

{{ key }}_reuse as (
    -- Other sellers / other listings that used the same key before as_of (self excluded).
    select
        s.listing_id,
        s.as_of,
        coalesce(sh.n_sellers, 0) - coalesce((own.first_at < s.as_of)::int, 0) as other_sellers,
        coalesce(lh.n_listings, 0) - (s.created_at < s.as_of)::int as other_listings
    from spine as s
    asof left join {{ key }}_seller_history as sh on sh.key = s.{{ key }} and s.as_of > sh.first_at
    asof left join {{ key }}_listing_history as lh on lh.key = s.{{ key }} and s.as_of > lh.created_at
    left join {{ key }}_seller_first as own on own.key = s.{{ key }} and own.seller_id = s.seller_id
    where s.{{ key }} is not null
),
{%- endfor %}

authorizations as (
    select s.listing_id, s.as_of, a.authorized_since
    from spine as s
    inner join {{ ref('stg_brand_authorizations') }} as a
        on a.seller_id = s.seller_id and a.brand = s.brand and a.authorized_since < s.as_of
),

bespoke as (
    select
        s.listing_id,
        s.as_of,
        s.price as prod_price,
        ln(s.price) as prod_log_price,
        s.price_to_ref as prod_price_to_ref_ratio,
        ln(s.price_to_ref) as prod_log_price_to_ref,
        coalesce((s.price_to_ref < 0.5)::int, 0) as prod_price_below_half_ref,
        coalesce((s.price_to_ref < 0.3)::int, 0) as prod_price_below_third_ref,
        {%- for group in ['brand', 'category'] %}
        {{ group }}_stats.n as prod_{{ group }}_listings_n,
        case when {{ group }}_stats.n >= 3 and {{ group }}_stats.sd_price > 0
            then (s.price - {{ group }}_stats.mean_price) / {{ group }}_stats.sd_price end as prod_price_z_{{ group }},
        case when {{ group }}_stats.n >= 3 and {{ group }}_stats.sd_log > 0
            then (ln(s.price) - {{ group }}_stats.mean_log) / {{ group }}_stats.sd_log end as prod_log_price_z_{{ group }},
        {{ safe_divide('s.price', group ~ '_stats.mean_price') }} as prod_price_to_{{ group }}_mean_ratio,
        {%- endfor %}
        s.has_brand as prod_has_brand,
        s.brand_unknown as prod_brand_unknown,
        -- Claims a known brand without an authorization that started before as_of.
        (s.has_brand = 1 and s.brand_unknown = 0 and auth.authorized_since is null)::int as prod_brand_unauthorized,
        {{ days_between('auth.authorized_since', 's.as_of') }} as prod_brand_authorized_days,
        s.category_mismatch as prod_category_mismatch,
        s.title_len as prod_title_len,
        s.description_len as prod_description_len,
        s.description_missing as prod_description_missing,
        s.image_missing as prod_image_missing,
        s.ship_from_address_missing as prod_ship_from_address_missing,
        coalesce(s.ship_from_other_city, 0) as prod_ship_from_other_city,
        s.title_mentions_brand as prod_title_mentions_brand,
        s.title_other_brands_n as prod_title_other_brands_n,
        {%- for cue in cues %}
        s.kw_{{ cue }} as prod_kw_{{ cue }},
        {%- endfor %}
        s.kw_cues_n as prod_kw_cues_n,
        s.kw_title_cues_n as prod_kw_title_cues_n,
        coalesce(phash.other_sellers, 0) as prod_image_other_sellers_n,
        coalesce(phash.other_listings, 0) as prod_image_other_listings_n,
        coalesce(title.other_sellers, 0) as prod_title_other_sellers_n,
        greatest({{ days_between('s.created_at', 's.as_of') }}, 0) as prod_listing_age_days
    from spine as s
    left join brand_price_stats as brand_stats on brand_stats.listing_id = s.listing_id and brand_stats.as_of = s.as_of
    left join category_price_stats as category_stats on category_stats.listing_id = s.listing_id and category_stats.as_of = s.as_of
    left join image_phash_reuse as phash on phash.listing_id = s.listing_id and phash.as_of = s.as_of
    left join title_key_reuse as title on title.listing_id = s.listing_id and title.as_of = s.as_of
    left join authorizations as auth on auth.listing_id = s.listing_id and auth.as_of = s.as_of
)

-- The select list, in column order, is the spec's (group product in dbt_project.yml).
select listing_id, as_of,
    {{ feature_model_selects('int_listing_product_features', {'bespoke': 'p'}) | join(',\n    ') }}
from bespoke as p

-- Time-independent attributes of each listing's current version: price against the brand's
-- reference price, text cues, completeness. Feature models add the time-dependent parts.
-- `status` is deliberately not carried: it reflects takedowns (an outcome), so it would leak.
{%- set text_cues = text_cue_flags('listing_text', 'listing_text_cues') %}
{%- set title_cues = text_cue_flags('title_text', 'listing_text_cues') %}

with listings as (
    select
        l.*,
        lower(l.title || ' ' || coalesce(l.description, '')) as listing_text,
        lower(l.title) as title_text,
        -- Titles compared across sellers ignore case, spaces and punctuation.
        nullif(regexp_replace(lower(l.title), '[\s[:punct:]]+', '', 'g'), '') as title_key
    from {{ ref('stg_listings') }} as l
),

other_brand_mentions as (
    -- Listings whose title names a known brand other than the one claimed (or claim none):
    -- "Nike-style" copies often avoid claiming the brand while naming it.
    select l.listing_id, count(*) as n_other_brands
    from listings as l
    inner join {{ ref('stg_brands') }} as b
        on length(b.brand) >= 3
        and contains(l.title_text, lower(b.brand))
        and b.brand is distinct from l.brand
    group by l.listing_id
)

select
    l.listing_id,
    l.seller_id,
    l.brand,
    l.category,
    l.created_at,
    l.price,
    l.image_phash,
    l.title_key,
    l.ship_from_city,
    b.category as brand_category,
    b.reference_price as brand_reference_price,
    (l.brand is not null)::int as has_brand,
    (l.brand is not null and b.brand is null)::int as brand_unknown,
    {{ safe_divide('l.price', 'b.reference_price') }} as price_to_ref,
    (b.category is not null and b.category <> l.category)::int as category_mismatch,
    length(l.title) as title_len,
    coalesce(length(l.description), 0) as description_len,
    (l.description is null or length(trim(l.description)) = 0)::int as description_missing,
    (l.image_phash is null)::int as image_missing,
    (l.ship_from_address is null or length(trim(l.ship_from_address)) = 0)::int as ship_from_address_missing,
    (l.ship_from_city <> s.city)::int as ship_from_other_city,
    (l.brand is not null and contains(l.title_text, lower(l.brand)))::int as title_mentions_brand,
    coalesce(obm.n_other_brands, 0) as title_other_brands_n,
    {%- for name, expr in text_cues.items() %}
    {{ expr }} as kw_{{ name }},
    {%- endfor %}
    {%- for name, expr in text_cues.items() %}{{ '(' if loop.first }}{{ expr }}{{ ' + ' if not loop.last else ')' }}{%- endfor %} as kw_cues_n,
    {%- for name, expr in title_cues.items() %}{{ '(' if loop.first }}{{ expr }}{{ ' + ' if not loop.last else ')' }}{%- endfor %} as kw_title_cues_n
from listings as l
left join {{ ref('stg_brands') }} as b on b.brand = l.brand
left join {{ ref('stg_sellers') }} as s on s.seller_id = l.seller_id
left join other_brand_mentions as obm on obm.listing_id = l.listing_id

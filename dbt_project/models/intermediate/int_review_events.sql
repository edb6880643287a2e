-- Every review with what the consumer features need of it, computed once for both grains
-- (listing and seller): its seller, text flags, the review text cues, and whether the reviewer
-- had paid for the listing before reviewing. The cues are regular expressions over millions of
-- reviews at scale large, and "bought before" scans all orders: too dear to do twice.
{%- set cues = text_cue_flags('lower(r.text)', 'review_text_cues') %}

with first_purchase as (
    -- When each buyer first paid for each listing: a review before it is not from a buyer.
    select listing_id, buyer_id, min(paid_at) as first_paid_at
    from {{ ref('stg_orders') }}
    where listing_id in (select listing_id from {{ ref('stg_reviews') }})
    group by all
)

select
    r.review_id, r.listing_id, l.seller_id, r.buyer_id, r.rating, r.created_at,
    (r.text is not null and length(trim(r.text)) > 0) as has_text,
    coalesce(length(trim(r.text)), 0) as text_len,
    (fp.first_paid_at is null or fp.first_paid_at >= r.created_at) as no_prior_purchase,
    {%- for name, expr in cues.items() %}
    {{ expr }} as cue_{{ name }}{{ ',' if not loop.last }}
    {%- endfor %}
from {{ ref('stg_reviews') }} as r
inner join {{ ref('stg_listings') }} as l on l.listing_id = r.listing_id
left join first_purchase as fp on fp.listing_id = r.listing_id and fp.buyer_id = r.buyer_id

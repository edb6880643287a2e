-- One row per seller: seller behaviour (sell_*), consumer signals over all its listings (cons_*)
-- and reports about it or its listings (rep_*), as of the data's current time.
with spine as (
    select s.seller_id, s.as_of
    from {{ ref('int_seller_spine') }} as s
    inner join {{ ref('int_feature_clock') }} as c on c.as_of = s.as_of
)

select
    sp.seller_id,
    s.province,
    s.city,
    sp.as_of as features_as_of,
    b.* exclude (seller_id, as_of),
    -- Goods received per unit sold: far more or far less than sold hints at off-book stock.
    {{ safe_divide('b.sell_inbound_weight_kg_' ~ (var('feature_windows') | last) ~ 'd',
                   'c.cons_units_' ~ (var('feature_windows') | last) ~ 'd') }}
        as sell_inbound_kg_per_unit_sold_{{ var('feature_windows') | last }}d,
    c.* exclude (seller_id, as_of),
    r.* exclude (seller_id, as_of),
    {{ report_rate_columns('r', 'c') | join(',\n    ') }}
from spine as sp
inner join {{ ref('stg_sellers') }} as s on s.seller_id = sp.seller_id
left join {{ ref('int_seller_behaviour_features') }} as b
    on b.seller_id = sp.seller_id and b.as_of = sp.as_of
left join {{ ref('int_seller_consumer_features') }} as c
    on c.seller_id = sp.seller_id and c.as_of = sp.as_of
left join {{ ref('int_seller_report_features') }} as r
    on r.seller_id = sp.seller_id and r.as_of = sp.as_of

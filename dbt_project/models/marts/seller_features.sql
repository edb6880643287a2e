-- One row per seller: seller behaviour (sell_*), consumer signals over all its listings (cons_*)
-- and reports about it or its listings (rep_*), as of the data's current time.
with spine as (
    select s.seller_id, s.as_of
    from {{ ref('int_seller_spine') }} as s
    inner join {{ ref('int_feature_clock') }} as c on c.as_of = s.as_of
)

{{ seller_feature_query('spine', [
    'sp.seller_id', 's.province', 's.city', 'sp.as_of as features_as_of',
]) }}

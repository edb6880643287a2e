{{ config(**wide_join_hooks()) }}
-- One row per listing: its features as of the data's current time (int_feature_clock), for
-- scoring. Same feature columns, computed the same way, as training_set.
-- `status` is carried for reference only; it is an enforcement result and never a feature.
with spine as (
    select s.listing_id, s.as_of
    from {{ ref('int_listing_spine') }} as s
    inner join {{ ref('int_feature_clock') }} as c on c.as_of = s.as_of
)

{{ listing_feature_query('spine', [
    'sp.listing_id', 'l.seller_id', 'l.brand', 'l.category', 'l.status', 'l.created_at',
    'sp.as_of as features_as_of',
]) }}

-- One row per listing with a listing-level enforcement outcome: its label (1 counterfeit
-- confirmed, 0 genuine confirmed; the latest decision wins) and its features as of the moment
-- the label was decided, so no feature uses anything learnt after it (point in time).
with spine as (
    select listing_id, label_decided_at as as_of, label_decided_at, label
    from {{ ref('int_listing_labels') }}
)

{{ listing_feature_query('spine', [
    'sp.listing_id', 'l.seller_id', 'l.brand', 'l.category', 'sp.label_decided_at', 'sp.label',
]) }}

-- One row per seller with a seller-level label (int_seller_labels: enforcement outcomes about
-- sellers and investigators' lead decisions; the latest wins) and the seller's features as of
-- the moment the label was decided (point in time), for seller-level models and evaluation.
with spine as (
    select seller_id, label_decided_at as as_of, label_decided_at, label, label_origin
    from {{ ref('int_seller_labels') }}
)

{{ seller_feature_query('spine', [
    'sp.seller_id', 's.province', 's.city', 'sp.label_decided_at', 'sp.label', 'sp.label_origin',
    'sp.as_of as features_as_of',
]) }}

-- The (seller, as_of) pairs seller features are computed for: every seller as of the data's
-- current time (seller_features), every labelled seller as of its label decision
-- (seller_training_set), plus every (seller, as_of) a listing spine row needs for its seller
-- aggregates.
select s.seller_id, c.as_of
from {{ ref('stg_sellers') }} as s
cross join {{ ref('int_feature_clock') }} as c

union

select seller_id, label_decided_at as as_of
from {{ ref('int_seller_labels') }}

union

select seller_id, as_of
from {{ ref('int_listing_spine') }}

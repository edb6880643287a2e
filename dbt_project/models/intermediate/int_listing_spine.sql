-- The (listing, as_of) pairs features are computed for: every listing as of the data's current
-- time (for listing_features), and every labelled listing as of its label decision (for
-- training_set, so a label only sees what was known before it was decided).
select l.listing_id, l.seller_id, c.as_of
from {{ ref('stg_listings') }} as l
cross join {{ ref('int_feature_clock') }} as c

union

select lb.listing_id, l.seller_id, lb.label_decided_at as as_of
from {{ ref('int_listing_labels') }} as lb
inner join {{ ref('stg_listings') }} as l on l.listing_id = lb.listing_id

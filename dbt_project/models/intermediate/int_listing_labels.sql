-- One label per listing that has a listing-level enforcement outcome: the latest decision wins
-- (a later outcome, e.g. an appeal, overrides an earlier one; ties broken by case_ref).
-- Seller-level outcomes do not label listings: a counterfeit seller's listings are not all fake.
select
    o.entity_id as listing_id,
    case o.outcome when 'counterfeit_confirmed' then 1 else 0 end as label,
    o.decided_at as label_decided_at,
    o.source as label_source,
    o.case_ref as label_case_ref
from {{ ref('stg_enforcement_outcomes') }} as o
inner join {{ ref('stg_listings') }} as l on l.listing_id = o.entity_id
where o.entity_type = 'listing'
qualify row_number() over (
    partition by o.entity_id order by o.decided_at desc, o.case_ref desc
) = 1

-- Every seller-level outcome, from two origins, in the shape of enforcement_outcomes:
--   enforcement_outcomes  confirmed findings about a seller sent by the marketplace;
--   lead_decision         an investigator's decision on a cloudsword lead (issue 6): the latest
--                         accepted/rejected status of each lead, one row per seller it covered,
--                         accepted -> counterfeit_confirmed, rejected -> genuine_confirmed
--                         (the same rule as ml.leads.registry.outcome_labels).
-- These label sellers only. They never label a listing (a counterfeit seller's listings are not
-- all fake) and never feed a feature, so they cannot leak into listing_features/training_set.
with lead_decisions as (
    select lead_id, status, changed_at, seller_ids
    from {{ ref('stg_lead_status_history') }}
    where status in ('accepted', 'rejected')
    qualify row_number() over (partition by lead_id order by changed_at desc) = 1
)

select
    case_ref,
    entity_id as seller_id,
    outcome,
    source,
    decided_at,
    'enforcement_outcomes' as origin
from {{ ref('stg_enforcement_outcomes') }}
where entity_type = 'seller'

union all

select
    d.lead_id || ':' || d.seller_id as case_ref,
    d.seller_id,
    case d.status when 'accepted' then 'counterfeit_confirmed' else 'genuine_confirmed' end as outcome,
    case d.status when 'accepted' then 'police_raid' else 'appeal' end as source,
    d.changed_at as decided_at,
    'lead_decision' as origin
from (select lead_id, status, changed_at, unnest(seller_ids) as seller_id from lead_decisions) as d
-- A decision about a seller the warehouse does not know (yet) cannot be joined to features.
inner join {{ ref('stg_sellers') }} as s on s.seller_id = d.seller_id

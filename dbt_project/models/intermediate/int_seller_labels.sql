-- One label per seller with a seller-level outcome (int_seller_outcomes: the marketplace's
-- enforcement outcomes and investigators' lead decisions): the latest decision wins, as for
-- listings (ties broken by case_ref).
select
    seller_id,
    case outcome when 'counterfeit_confirmed' then 1 else 0 end as label,
    decided_at as label_decided_at,
    source as label_source,
    origin as label_origin,
    case_ref as label_case_ref
from {{ ref('int_seller_outcomes') }}
qualify row_number() over (partition by seller_id order by decided_at desc, case_ref desc) = 1

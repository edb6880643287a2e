-- cloudsword.lead_status_history (written by ml/leads/registry.py, not a contract input): every
-- status an investigator set on a lead, with the sellers it was decided on. Append-only, kept as
-- is; an empty table until the warehouse has its first lead (see relation_or_empty).
{%- set history = relation_or_empty(source('cloudsword', 'lead_status_history'), [
    ('lead_id', 'VARCHAR'), ('status', 'VARCHAR'), ('changed_at', 'TIMESTAMP'),
    ('note', 'VARCHAR'), ('seller_ids', 'VARCHAR[]'),
]) %}

select
    cast(lead_id as VARCHAR) as lead_id,
    cast(status as VARCHAR) as status,
    cast(changed_at as TIMESTAMP) as changed_at,
    cast(note as VARCHAR) as note,
    cast(seller_ids as VARCHAR[]) as seller_ids
from {{ history }}

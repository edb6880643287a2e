{#-
    Report features (rep_*) at one grain, 'listing' or 'seller', for every (entity, as_of) of the
    grain's spine, from reports created strictly before as_of. A seller's reports are those that
    name it and those about any of its listings. The features (by reporter type, reason and
    window) and their order come from the spec group `report` (dbt_project.yml).
-#}
{% macro report_features(grain) %}
{%- set key = grain ~ '_id' %}
{%- set spine = ref('int_listing_spine') if grain == 'listing' else ref('int_seller_spine') %}

with spine as (
    select {{ key }}, as_of from {{ spine }}
),

reports as (
    {%- if grain == 'seller' %}
    select r.report_id, r.listing_id, coalesce(r.seller_id, l.seller_id) as seller_id,
        r.reporter_type, r.reason, r.text, r.created_at
    from {{ ref('stg_reports') }} as r
    left join {{ ref('stg_listings') }} as l on l.listing_id = r.listing_id
    {%- else %}
    select report_id, listing_id, reporter_type, reason, text, created_at
    from {{ ref('stg_reports') }}
    where listing_id is not null
    {%- endif %}
),

spine_reports as (
    select s.{{ key }}, s.as_of, r.* exclude ({{ key }})
    from spine as s
    left join reports as r on r.{{ key }} = s.{{ key }} and r.created_at < s.as_of
)

select {{ key }}, as_of,
    {{ feature_aggregates(feature_group('report', grain), 'reports') | join(',\n    ') }}
from spine_reports
group by {{ key }}, as_of
{% endmacro %}

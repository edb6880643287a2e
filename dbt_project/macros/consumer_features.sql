{#-
    Consumer-signal features at one grain, 'listing' or 'seller', for every (entity, as_of) of the
    grain's spine. Events are orders and reviews of the entity's listings strictly before as_of.
    This macro builds the event sets of the spec group `consumer` (orders, buyers, reviews,
    review_days, reviewers); the features themselves, their aggregates and their column order
    come from the feature spec (dbt_project.yml, macros/feature_spec.sql).

    The event x spine CTEs are read twice each; `not materialized` has DuckDB run them twice
    instead of writing tens of millions of joined rows out and back (at scale large the seller
    grain went from 93 s to 49 s). Reviews come from int_review_events, shared by both grains.
-#}
{% macro consumer_features(grain) %}
{%- set key = grain ~ '_id' %}
{%- set features = feature_group('consumer', grain) %}
{%- set spine = ref('int_listing_spine') if grain == 'listing' else ref('int_seller_spine') %}

with spine as (
    select {{ key }}, as_of from {{ spine }}
),

orders as not materialized (
    {%- if grain == 'seller' %}
    select o.* exclude (_batch_id), l.seller_id
    from {{ ref('stg_orders') }} as o
    inner join {{ ref('stg_listings') }} as l on l.listing_id = o.listing_id
    {%- else %}
    select * exclude (_batch_id) from {{ ref('stg_orders') }}
    {%- endif %}
),

spine_orders as not materialized (
    select s.{{ key }}, s.as_of, o.buyer_id, o.quantity, o.unit_price, o.paid_at,
        o.refund_requested, o.buyer_province, o.buyer_city
    from spine as s
    left join orders as o on o.{{ key }} = s.{{ key }} and o.paid_at < s.as_of
),

order_features as (
    select {{ key }}, as_of,
        {{ feature_aggregates(features, 'orders') | join(',\n        ') }}
    from spine_orders
    group by {{ key }}, as_of
),

buyer_orders as (
    select {{ key }}, as_of, buyer_id, count(*) as n_orders, max(paid_at) as last_paid_at
    from spine_orders
    where buyer_id is not null
    group by all
),

buyer_features as (
    select {{ key }}, as_of,
        {{ feature_aggregates(features, 'buyers') | join(',\n        ') }}
    from buyer_orders
    group by {{ key }}, as_of
),

reviews as (
    select * from {{ ref('int_review_events') }}
),

spine_reviews as not materialized (
    select s.{{ key }}, s.as_of, r.* exclude ({{ key }})
    from spine as s
    left join reviews as r on r.{{ key }} = s.{{ key }} and r.created_at < s.as_of
),

review_features as (
    select {{ key }}, as_of,
        {{ feature_aggregates(features, 'reviews') | join(',\n        ') }}
    from spine_reviews
    group by {{ key }}, as_of
),

review_days as (
    select {{ key }}, as_of, created_at::date as day, count(*) as n_reviews
    from spine_reviews
    where created_at is not null
    group by all
),

burst_features as (
    select {{ key }}, as_of,
        {{ feature_aggregates(features, 'review_days') | join(',\n        ') }}
    from review_days
    group by {{ key }}, as_of
),

reviewer_sellers as (
    -- When each buyer first reviewed each seller.
    select buyer_id, seller_id, min(created_at) as first_at
    from reviews
    group by all
),

spine_reviewers as (
    select distinct {{ key }}, as_of, buyer_id, seller_id
    from spine_reviews
    where buyer_id is not null
),

reviewer_overlap as (
    -- For each reviewer: how many other sellers they had reviewed before as_of.
    select r.{{ key }}, r.as_of, r.buyer_id, count(rs.seller_id) as other_sellers
    from spine_reviewers as r
    left join reviewer_sellers as rs
        on rs.buyer_id = r.buyer_id and rs.seller_id <> r.seller_id and rs.first_at < r.as_of
    group by all
),

overlap_features as (
    select {{ key }}, as_of,
        {{ feature_aggregates(features, 'reviewers') | join(',\n        ') }}
    from reviewer_overlap
    group by {{ key }}, as_of
)

select
    s.{{ key }},
    s.as_of,
    {#- Each feature read from the CTE of its event set; derived ratios divide two of them. #}
    {{ feature_selects(features, {
        'orders': 'o', 'buyers': 'b', 'reviews': 'r', 'review_days': 'bu', 'reviewers': 'ov'
    }) | join(',\n    ') }}
from spine as s
left join order_features as o on o.{{ key }} = s.{{ key }} and o.as_of = s.as_of
left join buyer_features as b on b.{{ key }} = s.{{ key }} and b.as_of = s.as_of
left join review_features as r on r.{{ key }} = s.{{ key }} and r.as_of = s.as_of
left join burst_features as bu on bu.{{ key }} = s.{{ key }} and bu.as_of = s.as_of
left join overlap_features as ov on ov.{{ key }} = s.{{ key }} and ov.as_of = s.as_of
{% endmacro %}

{#-
    The listing feature vector, written once and used by both listing_features (as of the data's
    current time) and training_set (as of each label's decision time): every family is looked up
    at the spine row's (listing_id, as_of), so what a training row sees is exactly what a scored
    listing would have seen at that moment.

    spine: a relation or CTE name with listing_id and as_of. leading_columns: the identifying
    columns to put first (may use aliases sp = spine, l = current listing version).
    The feature columns are those of var feature_models.listing_features, in its order: the
    marts' YAML is generated from the spec and their contracts are enforced, so a column here
    that the spec does not declare (or a type that drifts) fails the build.
-#}
{% macro listing_feature_query(spine, leading_columns) %}
select
    {{ leading_columns | join(',\n    ') }},
    p.* exclude (listing_id, as_of),
    c.* exclude (listing_id, as_of),
    r.* exclude (listing_id, as_of),
    {{ feature_selects(feature_group('report_rates', 'listing'), {'report': 'r', 'consumer': 'c'}) | join(',\n    ') }},
    sb.* exclude (seller_id, as_of),
    {#- The seller's consumer and report aggregates the spec carries onto listings (renamed). #}
    {%- set carried = {'int_seller_consumer_features': 'sc', 'int_seller_report_features': 'sr'} %}
    {%- for f in feature_model_columns('listing_features', carried_only=true) %}
    {{ carried[f['carried_from']] }}.{{ f['source_name'] }} as {{ f['name'] }},
    {%- endfor %}
    -- How much of the seller's sales this one listing makes. The two sums add the same doubles in
    -- different orders, so a seller's only listing can come out a hair above 1: cap it.
    case when c.cons_gmv_all >= sc.cons_gmv_all and sc.cons_gmv_all > 0 then 1.0
        else {{ safe_divide('c.cons_gmv_all', 'sc.cons_gmv_all') }} end as cons_listing_gmv_share_of_seller_all
from {{ spine }} as sp
inner join {{ ref('stg_listings') }} as l on l.listing_id = sp.listing_id
left join {{ ref('int_listing_product_features') }} as p
    on p.listing_id = sp.listing_id and p.as_of = sp.as_of
left join {{ ref('int_listing_consumer_features') }} as c
    on c.listing_id = sp.listing_id and c.as_of = sp.as_of
left join {{ ref('int_listing_report_features') }} as r
    on r.listing_id = sp.listing_id and r.as_of = sp.as_of
left join {{ ref('int_seller_behaviour_features') }} as sb
    on sb.seller_id = l.seller_id and sb.as_of = sp.as_of
left join {{ ref('int_seller_consumer_features') }} as sc
    on sc.seller_id = l.seller_id and sc.as_of = sp.as_of
left join {{ ref('int_seller_report_features') }} as sr
    on sr.seller_id = l.seller_id and sr.as_of = sp.as_of
{% endmacro %}

{#-
    The seller feature vector, shared by seller_features (as of the data's current time) and
    seller_training_set (as of each seller label's decision time), like listing_feature_query.
-#}
{% macro seller_feature_query(spine, leading_columns) %}
select
    {{ leading_columns | join(',\n    ') }},
    b.* exclude (seller_id, as_of),
    {{ feature_selects(feature_group('seller_supply', 'seller'), {'behaviour': 'b', 'consumer': 'c'}) | join(',\n    ') }},
    c.* exclude (seller_id, as_of),
    r.* exclude (seller_id, as_of),
    {{ feature_selects(feature_group('report_rates', 'seller'), {'report': 'r', 'consumer': 'c'}) | join(',\n    ') }}
from {{ spine }} as sp
inner join {{ ref('stg_sellers') }} as s on s.seller_id = sp.seller_id
left join {{ ref('int_seller_behaviour_features') }} as b
    on b.seller_id = sp.seller_id and b.as_of = sp.as_of
left join {{ ref('int_seller_consumer_features') }} as c
    on c.seller_id = sp.seller_id and c.as_of = sp.as_of
left join {{ ref('int_seller_report_features') }} as r
    on r.seller_id = sp.seller_id and r.as_of = sp.as_of
{% endmacro %}

{#-
    Hooks for listing_features, which joins the wide per-family feature tables to a spine of
    the same size. DuckDB's build-side optimizer flips these LEFT joins so that the growing, ever
    wider join result becomes the hash table at every step; at scale large (1M listings x 360
    columns) that ran out of a 6 GB limit. With the flip disabled each join hashes the
    intermediate table as written and streams the spine through: 26 s and 4.4 GB instead of an
    out-of-memory error. Plans only, same rows. The training sets keep the default: their spines
    are small, so hashing the spine side is the cheap choice there.
-#}
{% macro wide_join_hooks() %}
    {{ return({
        'pre_hook': "set disabled_optimizers = 'build_side_probe_side'",
        'post_hook': "reset disabled_optimizers",
    }) }}
{% endmacro %}

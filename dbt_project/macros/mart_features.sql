{#-
    The listing feature vector, written once and used by both listing_features (as of the data's
    current time) and training_set (as of each label's decision time): every family is looked up
    at the spine row's (listing_id, as_of), so what a training row sees is exactly what a scored
    listing would have seen at that moment.

    spine: a relation or CTE name with listing_id and as_of. leading_columns: the identifying
    columns to put first (may use aliases sp = spine, l = current listing version).
-#}
{% macro listing_feature_query(spine, leading_columns) %}
{%- set kept = seller_aggregate_columns() %}
select
    {{ leading_columns | join(',\n    ') }},
    p.* exclude (listing_id, as_of),
    c.* exclude (listing_id, as_of),
    r.* exclude (listing_id, as_of),
    {{ report_rate_columns('r', 'c') | join(',\n    ') }},
    sb.* exclude (seller_id, as_of),
    {%- for col in kept.consumer %}
    sc.{{ col }} as sell_{{ col }},
    {%- endfor %}
    {%- for col in kept.report %}
    sr.{{ col }} as sell_{{ col }},
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
    Seller-level consumer and report aggregates a listing carries (renamed sell_cons_* and
    sell_rep_*): only the longest window and all-time, to keep the listing vector compact.
-#}
{% macro seller_aggregate_columns() %}
    {%- set dropped = [] -%}
    {%- for w in var('feature_windows')[:-1] -%}{%- do dropped.append('_' ~ w ~ 'd') -%}{%- endfor -%}
    {%- set kept = {'consumer': [], 'report': []} -%}
    {%- for family, model in [('consumer', 'int_seller_consumer_features'), ('report', 'int_seller_report_features')] -%}
        {%- for col in feature_columns(ref(model)) -%}
            {%- set ns = namespace(keep=true) -%}
            {%- for d in dropped -%}
                {%- if col.endswith(d) or (d ~ '_') in col -%}{%- set ns.keep = false -%}{%- endif -%}
            {%- endfor -%}
            {%- if ns.keep -%}{%- do kept[family].append(col) -%}{%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(kept) }}
{% endmacro %}

{#- Reports relative to sales volume (the same report count means more on a small listing). -#}
{% macro report_rate_columns(rep, cons) %}
    {%- set cols = [] -%}
    {%- for w in [var('feature_windows') | last, 'all'] -%}
        {%- set s = window_suffix(w) -%}
        {%- do cols.append(safe_divide(rep ~ '.rep_consumer_' ~ s, cons ~ '.cons_orders_' ~ s) ~ ' as rep_consumer_per_order_' ~ s) -%}
        {%- do cols.append(safe_divide(rep ~ '.rep_consumer_counterfeit_' ~ s, cons ~ '.cons_orders_' ~ s) ~ ' as rep_consumer_counterfeit_per_order_' ~ s) -%}
        {%- do cols.append(safe_divide(rep ~ '.rep_reports_' ~ s, cons ~ '.cons_buyers_' ~ s) ~ ' as rep_reports_per_buyer_' ~ s) -%}
    {%- endfor -%}
    {{ return(cols) }}
{% endmacro %}

{#-
    The seller feature vector, shared by seller_features (as of the data's current time) and
    seller_training_set (as of each seller label's decision time), like listing_feature_query.
-#}
{% macro seller_feature_query(spine, leading_columns) %}
{%- set last = var('feature_windows') | last %}
select
    {{ leading_columns | join(',\n    ') }},
    b.* exclude (seller_id, as_of),
    -- Goods received per unit sold: far more or far less than sold hints at off-book stock.
    {{ safe_divide('b.sell_inbound_weight_kg_' ~ last ~ 'd', 'c.cons_units_' ~ last ~ 'd') }}
        as sell_inbound_kg_per_unit_sold_{{ last }}d,
    c.* exclude (seller_id, as_of),
    r.* exclude (seller_id, as_of),
    {{ report_rate_columns('r', 'c') | join(',\n    ') }}
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

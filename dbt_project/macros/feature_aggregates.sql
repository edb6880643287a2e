{#-
    Aggregate select lists shared by the listing grain and the seller grain. Each macro returns a
    list of "expression as column" strings over a spine (entity, as_of) LEFT JOINed to its events
    before as_of; the caller groups by the spine key. Counts count the event time column, so a
    spine row without events gets 0 (not 1); means and rates are then NULL (no evidence).
-#}

{#- Orders: volume, value, buyers, refunds, per window; velocity and recency. -#}
{% macro order_aggregates() %}
    {%- set cols = [] -%}
    {%- for w in feature_windows() -%}
        {%- set f = in_window('paid_at', 'as_of', w) -%}
        {%- set s = window_suffix(w) -%}
        {%- do cols.append("count(paid_at) filter (where " ~ f ~ ") as cons_orders_" ~ s) -%}
        {%- do cols.append("coalesce(sum(quantity) filter (where " ~ f ~ "), 0)::bigint as cons_units_" ~ s) -%}
        {%- do cols.append("coalesce(sum(quantity * unit_price) filter (where " ~ f ~ "), 0) as cons_gmv_" ~ s) -%}
        {%- do cols.append("count(paid_at) filter (where " ~ f ~ " and refund_requested) as cons_refunds_" ~ s) -%}
        {%- do cols.append(safe_divide("count(paid_at) filter (where " ~ f ~ " and refund_requested)", "count(paid_at) filter (where " ~ f ~ ")") ~ " as cons_refund_rate_" ~ s) -%}
    {%- endfor -%}
    {%- do cols.append("avg(quantity) as cons_units_per_order_mean_all") -%}
    {%- do cols.append("coalesce(max(quantity), 0) as cons_units_per_order_max_all") -%}
    {%- do cols.append("count(distinct buyer_province) as cons_buyer_provinces_n_all") -%}
    {%- do cols.append("count(distinct buyer_city) as cons_buyer_cities_n_all") -%}
    {%- do cols.append("count(distinct paid_at::date) as cons_order_days_n_all") -%}
    {%- do cols.append(days_between('min(paid_at)', 'any_value(as_of)') ~ " as cons_days_since_first_order") -%}
    {%- do cols.append(days_between('max(paid_at)', 'any_value(as_of)') ~ " as cons_days_since_last_order") -%}
    {{ return(cols) }}
{% endmacro %}

{#-
    Buyers per window and buyer concentration, over buyer-level rows (n_orders, last_paid_at).
    A buyer counts in a window when their last order before as_of falls in it; counting buyers
    this way avoids filtered count(distinct), which is slow at scale.
-#}
{% macro buyer_aggregates() %}
    {%- set cols = [] -%}
    {%- for w in feature_windows() -%}
        {%- do cols.append("count(*) filter (where " ~ in_window('last_paid_at', 'as_of', w) ~ ") as cons_buyers_" ~ window_suffix(w)) -%}
    {%- endfor -%}
    {%- do cols.append(safe_divide('max(n_orders)', 'sum(n_orders)') ~ ' as cons_top_buyer_share_all') -%}
    {%- do cols.append(safe_divide('count(*) filter (where n_orders >= 2)', 'count(*)') ~ ' as cons_repeat_buyer_share_all') -%}
    {%- do cols.append(safe_divide('sum(n_orders * n_orders)', 'sum(n_orders) * sum(n_orders)') ~ ' as cons_buyer_hhi') -%}
    {{ return(cols) }}
{% endmacro %}

{#- Reviews: volume and ratings per window, rating distribution, text cues, bursts. -#}
{% macro review_aggregates() %}
    {%- set cols = [] -%}
    {%- for w in feature_windows() -%}
        {%- set f = in_window('created_at', 'as_of', w) -%}
        {%- set s = window_suffix(w) -%}
        {%- do cols.append("count(created_at) filter (where " ~ f ~ ") as cons_reviews_" ~ s) -%}
        {%- do cols.append("avg(rating) filter (where " ~ f ~ ") as cons_rating_mean_" ~ s) -%}
        {%- do cols.append(safe_divide("count(created_at) filter (where " ~ f ~ " and rating <= 2)", "count(created_at) filter (where " ~ f ~ ")") ~ " as cons_low_rating_share_" ~ s) -%}
    {%- endfor -%}
    {%- for k in range(1, 6) -%}
        {%- do cols.append(safe_divide("count(created_at) filter (where rating = " ~ k ~ ")", "count(created_at)") ~ " as cons_rating_" ~ k ~ "_share_all") -%}
    {%- endfor -%}
    {%- do cols.append("stddev_pop(rating) as cons_rating_std_all") -%}
    {%- do cols.append(safe_divide("count(created_at) filter (where has_text)", "count(created_at)") ~ " as cons_review_text_share_all") -%}
    {%- do cols.append("avg(text_len) filter (where has_text) as cons_review_text_len_mean_all") -%}
    {%- do cols.append(safe_divide("count(created_at) filter (where rating = 5 and text_len < 10)", "count(created_at)") ~ " as cons_five_star_terse_share_all") -%}
    {%- for cue in var('review_text_cues') -%}
        {%- do cols.append("coalesce(sum(cue_" ~ cue ~ "), 0)::bigint as cons_review_cue_" ~ cue ~ "_n_all") -%}
        {%- do cols.append(safe_divide("sum(cue_" ~ cue ~ ")", "count(created_at)") ~ " as cons_review_cue_" ~ cue ~ "_share_all") -%}
    {%- endfor -%}
    {%- do cols.append(safe_divide("count(created_at) filter (where no_prior_purchase)", "count(created_at)") ~ " as cons_review_no_purchase_share_all") -%}
    {%- do cols.append(days_between('max(created_at)', 'any_value(as_of)') ~ " as cons_days_since_last_review") -%}
    {{ return(cols) }}
{% endmacro %}

{#- Reviews per (grain, day) -> bursts. Input: day-level rows with n_reviews. -#}
{% macro review_burst_aggregates() %}
    {{ return([
        'coalesce(max(n_reviews), 0) as cons_review_burst_max_day_n_all',
        safe_divide('max(n_reviews)', 'sum(n_reviews)') ~ ' as cons_review_burst_max_day_share_all',
        'count(*) as cons_review_days_n_all',
    ]) }}
{% endmacro %}

{#- Reports: counts by reporter type and reason per window; rights holders apart from consumers. -#}
{% macro report_aggregates() %}
    {%- set cols = [] -%}
    {%- for w in feature_windows() -%}
        {%- set f = in_window('created_at', 'as_of', w) -%}
        {%- set s = window_suffix(w) -%}
        {%- do cols.append("count(created_at) filter (where " ~ f ~ ") as rep_reports_" ~ s) -%}
        {%- for t in var('reporter_types') -%}
            {%- do cols.append("count(created_at) filter (where " ~ f ~ " and reporter_type = '" ~ t ~ "') as rep_" ~ t ~ "_" ~ s) -%}
        {%- endfor -%}
        {%- for r in var('report_reasons') -%}
            {%- do cols.append("count(created_at) filter (where " ~ f ~ " and reason = '" ~ r ~ "') as rep_reason_" ~ r ~ "_" ~ s) -%}
        {%- endfor -%}
        {#- The two strongest combinations, kept apart: rights holders claiming IP / counterfeit,
            and consumers saying counterfeit. -#}
        {%- do cols.append("count(created_at) filter (where " ~ f ~ " and reporter_type = 'rights_holder' and reason in ('counterfeit', 'ip_infringement')) as rep_rights_holder_ip_claims_" ~ s) -%}
        {%- do cols.append("count(created_at) filter (where " ~ f ~ " and reporter_type = 'consumer' and reason = 'counterfeit') as rep_consumer_counterfeit_" ~ s) -%}
    {%- endfor -%}
    {%- do cols.append("count(distinct reason) as rep_distinct_reasons_n_all") -%}
    {%- do cols.append("count(distinct reporter_type) as rep_distinct_reporter_types_n_all") -%}
    {%- do cols.append(safe_divide("count(created_at) filter (where reason in ('counterfeit', 'ip_infringement'))", "count(created_at)") ~ " as rep_counterfeit_ip_share_all") -%}
    {%- do cols.append(safe_divide("count(created_at) filter (where text is not null and length(trim(text)) > 0)", "count(created_at)") ~ " as rep_text_share_all") -%}
    {%- do cols.append(days_between('min(created_at)', 'any_value(as_of)') ~ " as rep_days_since_first_report") -%}
    {%- do cols.append(days_between('max(created_at)', 'any_value(as_of)') ~ " as rep_days_since_last_report") -%}
    {{ return(cols) }}
{% endmacro %}

{#- Column names of a relation that start with one of the prefixes (for carrying families on). -#}
{% macro feature_columns(relation, prefixes=['prod_', 'sell_', 'cons_', 'rep_']) %}
    {%- set names = [] -%}
    {%- if execute -%}
        {%- for col in adapter.get_columns_in_relation(relation) -%}
            {%- for p in prefixes -%}
                {%- if col.name.startswith(p) -%}{%- do names.append(col.name) -%}{%- endif -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(names) }}
{% endmacro %}

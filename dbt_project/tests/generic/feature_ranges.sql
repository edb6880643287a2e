{#-
    One query that checks every feature column of a model by the naming convention of the
    feature families (macros/test_checks.sql: feature_range_checks). column_checks with
    `features: true` does the same plus not-null and range rules in the same scan.
    Returns one row per (check, number of offending rows) that failed.
-#}
{% test feature_ranges(model, prefixes=['prod_', 'sell_', 'cons_', 'rep_']) %}
{%- set checks = feature_range_checks(model, prefixes) if execute else [('none', 'false')] %}
with counts as (
    select
        {%- for check in checks %}
        count_if({{ check[1] }}) as "{{ check[0] }}"{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ model }}
),

long as (
    unpivot counts on columns(*) into name failed_check value n_rows
)

select failed_check, n_rows from long where n_rows > 0
{% endtest %}

{#-
    Fails on rows where any of `columns` holds a non-null value outside [min_value, max_value]:
    one scan for many columns (flags in {0, 1}, say) instead of one dbt test per column.
    Returns one row per (column, number of offending rows).
-#}
{% test columns_in_range(model, columns, min_value, max_value) %}
with counts as (
    select
        {%- for col in columns %}
        count_if({{ adapter.quote(col) }} < {{ min_value }} or {{ adapter.quote(col) }} > {{ max_value }})
            as "{{ col }}"{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ model }}
),

long as (
    unpivot counts on columns(*) into name column_name value n_rows
)

select column_name, n_rows from long where n_rows > 0
{% endtest %}

{#-
    Upsert and append semantics of the data contract, applied to a raw table.

    Entity tables (brands, sellers, listings) keep every version that was sent; the current
    version is the row from the latest batch (batch ids sort lexically, in processing order),
    and within a batch the last row of the file. Event tables are append-only; a key seen again
    is a duplicate and the first occurrence wins.
-#}
{% macro latest_version(source_table, key_columns) %}
select *
from {{ source_table }}
qualify row_number() over (
    partition by {{ key_columns | join(', ') }}
    order by _batch_id desc, _row_number desc
) = 1
{% endmacro %}

{#-
    Keys seen once (nearly all rows of an event table) pass straight through; only the rows of
    duplicated keys go through the window. Same result as a row_number() over every row, about
    twice as fast on millions of events. `is not distinct from` so NULL keys group as in a window.
-#}
{% macro first_occurrence(source_table, key_columns) %}
{%- set on = [] -%}
{%- for k in key_columns -%}{%- do on.append('s.' ~ k ~ ' is not distinct from d.' ~ k) -%}{%- endfor -%}
with duplicated_keys as (
    select {{ key_columns | join(', ') }}
    from {{ source_table }}
    group by all
    having count(*) > 1
)

select s.*
from {{ source_table }} as s
anti join duplicated_keys as d on {{ on | join(' and ') }}

union all

select s.*
from {{ source_table }} as s
semi join duplicated_keys as d on {{ on | join(' and ') }}
qualify row_number() over (
    partition by {{ key_columns | join(', ') }}
    order by _batch_id, _row_number
) = 1
{% endmacro %}

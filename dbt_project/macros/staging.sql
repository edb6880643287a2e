{#-
    Upsert and append semantics of the data contract, applied to a raw table.

    Entity tables (brands, sellers, listings) keep every version that was sent; the current
    version is the row from the latest batch (batch ids sort lexically, in processing order),
    and within a batch the last row of the file. Event tables are append-only; a key seen again
    is a duplicate and the first occurrence wins.
-#}
{#-
    On an incremental build (the staging table exists) only batches the table has not seen yet
    are read: events append, entities replace the versions of the keys those batches touch. Both
    give exactly the rows a full build would. For events that rests on ingestion, which
    quarantines a key already ingested in an earlier batch; the anti join against the table keeps
    the first occurrence winning even so.
-#}
{#-
    Rows not staged yet: those of batches the table has not seen, and those ingested after the
    newest row it holds. The second catches rows held for a missing reference and admitted when
    a late batch brought it: they keep their own (already staged) batch id, so the version order
    of entities stays the order of batches.
-#}
{% macro unstaged_rows(source_table) -%}
(select * from {{ source_table }}
 where _batch_id not in (select distinct _batch_id from {{ this }})
    or _ingested_at > (select max(_ingested_at) from {{ this }}))
{%- endmacro %}

{% macro _key_match(left, right, key_columns) -%}
{%- set on = [] -%}
{%- for k in key_columns -%}{%- do on.append(left ~ '.' ~ k ~ ' is not distinct from ' ~ right ~ '.' ~ k) -%}{%- endfor -%}
{{ on | join(' and ') }}
{%- endmacro %}

{% macro latest_version(source_table, key_columns) %}
{%- if is_incremental() %}
with touched_keys as (
    select distinct {{ key_columns | join(', ') }}
    from {{ unstaged_rows(source_table) }}
)

select s.*
from {{ source_table }} as s
semi join touched_keys as t on {{ _key_match('s', 't', key_columns) }}
{%- else %}
select *
from {{ source_table }}
{%- endif %}
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
{%- set rows = unstaged_rows(source_table) if is_incremental() else source_table %}
{%- set staged = 'anti join ' ~ this ~ ' as t on ' ~ _key_match('s', 't', key_columns) if is_incremental() else '' %}
with duplicated_keys as (
    select {{ key_columns | join(', ') }}
    from {{ rows }}
    group by all
    having count(*) > 1
)

select s.*
from {{ rows }} as s
anti join duplicated_keys as d on {{ _key_match('s', 'd', key_columns) }}
{{ staged }}

union all

select s.*
from {{ rows }} as s
semi join duplicated_keys as d on {{ _key_match('s', 'd', key_columns) }}
{{ staged }}
qualify row_number() over (
    partition by {{ key_columns | join(', ') }}
    order by _batch_id, _row_number
) = 1
{% endmacro %}

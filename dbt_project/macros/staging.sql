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

{% macro first_occurrence(source_table, key_columns) %}
select *
from {{ source_table }}
qualify row_number() over (
    partition by {{ key_columns | join(', ') }}
    order by _batch_id, _row_number
) = 1
{% endmacro %}

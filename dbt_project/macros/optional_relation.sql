{#-
    A relation that may not exist yet, e.g. cloudsword.lead_status_history, which ml/leads creates
    only when the first lead is registered. Returns the relation when it exists, otherwise an empty
    subquery with the given (name, type) columns, so models over it build on a fresh warehouse and
    simply see no rows. Calling source()/ref() in the caller keeps the lineage in the docs.
-#}
{% macro relation_or_empty(relation, columns) %}
    {%- set found = none -%}
    {%- if execute -%}
        {%- set found = adapter.get_relation(
            database=relation.database, schema=relation.schema, identifier=relation.identifier) -%}
    {%- endif -%}
    {%- if found is not none -%}
        {{ found }}
    {%- else -%}
        (select
        {%- for name, type in columns %}
            cast(null as {{ type }}) as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
        where false)
    {%- endif -%}
{% endmacro %}

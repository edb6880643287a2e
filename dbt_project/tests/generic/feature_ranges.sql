{#-
    One query that checks every feature column of a model by the naming convention of the
    feature families (one table scan instead of hundreds of single-column dbt tests):
      every feature                                     numeric and finite (no NaN / infinity)
      names with a _share / _rate word or _hhi / _pct   in [0, 1] (not _shared_)
      everything else, except z-scores, logs, diffs     >= 0 (counts, amounts, days, ratios)
    Returns one row per (check, number of offending rows) that failed.
-#}
{% test feature_ranges(model, prefixes=['prod_', 'sell_', 'cons_', 'rep_']) %}
{%- set checks = [] -%}
{%- if execute -%}
{%- for col in adapter.get_columns_in_relation(model) -%}
    {%- set name = col.name | lower -%}
    {%- set ns = namespace(is_feature=false) -%}
    {%- for p in prefixes -%}
        {%- if name.startswith(p) -%}{%- set ns.is_feature = true -%}{%- endif -%}
    {%- endfor -%}
    {%- if ns.is_feature -%}
        {%- set q = adapter.quote(col.name) -%}
        {%- set base_type = (col.dtype | lower).split('(')[0] -%}
        {%- if base_type in ('double', 'bigint', 'integer', 'float', 'hugeint', 'smallint', 'tinyint', 'decimal', 'real') -%}
            {%- do checks.append((name ~ ' not finite', q ~ ' is not null and not isfinite(' ~ q ~ '::double)')) -%}
            {%- if name.endswith('_share') or '_share_' in name or name.endswith('_rate') or '_rate_' in name or name.endswith('_hhi') or name.endswith('_pct') -%}
                {%- do checks.append((name ~ ' outside [0, 1]', q ~ ' < 0 or ' ~ q ~ ' > 1')) -%}
            {%- elif not ('_z_' in name or name.endswith('_z') or '_log' in name or '_diff' in name or '_growth' in name) -%}
                {%- do checks.append((name ~ ' negative', q ~ ' < 0')) -%}
            {%- endif -%}
        {%- else -%}
            {%- do checks.append((name ~ ' not numeric: ' ~ col.dtype, 'true')) -%}
        {%- endif -%}
    {%- endif -%}
{%- endfor -%}
{%- endif -%}
{%- if not checks -%}
    {%- do checks.append(('no feature columns found', 'true')) -%}
{%- endif %}
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

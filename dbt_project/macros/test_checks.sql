{#-
    The per-column range rules of feature columns, by the naming convention of the feature
    families, as a list of (check name, SQL predicate that is true on a failing row):
      every feature                                     numeric and finite (no NaN / infinity)
      names with a _share / _rate word or _hhi / _pct   in [0, 1] (not _shared_)
      everything else, except z-scores, logs, diffs     >= 0 (counts, amounts, days, ratios)
    Used by the generic test column_checks (`features: true`).
-#}
{% macro feature_range_checks(model, prefixes=['prod_', 'sell_', 'cons_', 'rep_']) %}
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
{%- if not checks -%}
    {%- do checks.append(('no feature columns found', 'true')) -%}
{%- endif -%}
{%- endif -%}
{{ return(checks) }}
{% endmacro %}

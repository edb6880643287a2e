{#-
    Every per-column rule of one model in ONE query: a dbt test per column per rule costs a query
    and a node each (about 0.1 s apiece, and parse time), which dominated `dbt build` on small data.
    Each rule is one count_if in a single scan; the failing rows name the column and the rule:
        check                                        n_rows
        reference_price <= 0                         3
        listing_id is null                           1
      not_null   columns that must not be null
      ranges     [{column, min_value, max_value, strict_min}] non-null values must lie in the range
                 (either bound may be omitted; strict_min makes the lower bound exclusive)
      flags      columns whose non-null values must lie in [0, 1]
      unit_interval, non_negative, finite
                 feature columns by the range of their spec (written into the model YAML by
                 scripts/generate_model_yaml.py, never guessed from names): in [0, 1], >= 0, or
                 any value; all three lists must be numeric and finite (no NaN, no infinity)
    Keys (unique, unique_combination), relationships and accepted_values stay separate tests.
-#}
{% test column_checks(model, not_null=[], ranges=[], flags=[], finite=[], unit_interval=[],
                      non_negative=[]) %}
{%- set checks = [] -%}
{%- for col in not_null -%}
    {%- do checks.append((col ~ ' is null', adapter.quote(col) ~ ' is null')) -%}
{%- endfor -%}
{%- for r in ranges -%}
    {%- set q = adapter.quote(r['column']) -%}
    {%- if r.get('min_value') is not none -%}
        {%- set op = '<=' if r.get('strict_min') else '<' -%}
        {%- do checks.append((r['column'] ~ ' ' ~ op ~ ' ' ~ r['min_value'], q ~ ' ' ~ op ~ ' ' ~ r['min_value'])) -%}
    {%- endif -%}
    {%- if r.get('max_value') is not none -%}
        {%- do checks.append((r['column'] ~ ' > ' ~ r['max_value'], q ~ ' > ' ~ r['max_value'])) -%}
    {%- endif -%}
{%- endfor -%}
{%- for col in flags + unit_interval -%}
    {%- set q = adapter.quote(col) -%}
    {%- do checks.append((col ~ ' outside [0, 1]', q ~ ' < 0 or ' ~ q ~ ' > 1')) -%}
{%- endfor -%}
{%- for col in finite + unit_interval + non_negative -%}
    {%- set q = adapter.quote(col) -%}
    {%- do checks.append((col ~ ' not finite', q ~ ' is not null and not isfinite(' ~ q ~ '::double)')) -%}
{%- endfor -%}
{%- for col in non_negative -%}
    {%- do checks.append((col ~ ' negative', adapter.quote(col) ~ ' < 0')) -%}
{%- endfor -%}
{%- set ns = namespace(seen=[]) -%}
{%- set unique_checks = [] -%}
{%- for check in checks -%}
    {%- if check[0] not in ns.seen -%}
        {%- do ns.seen.append(check[0]) -%}{%- do unique_checks.append(check) -%}
    {%- endif -%}
{%- endfor -%}
{%- if not unique_checks -%}
    {%- do unique_checks.append(('no checks given', 'true')) -%}
{%- endif %}
with counts as (
    select
        {%- for check in unique_checks %}
        count_if({{ check[1] }}) as "{{ check[0] | replace('"', '') }}"{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ model }}
),

long as (
    unpivot counts on columns(*) into name failed_check value n_rows
)

select failed_check, n_rows from long where n_rows > 0
{% endtest %}

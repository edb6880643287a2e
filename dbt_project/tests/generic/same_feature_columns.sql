{#-
    Fails with one row per feature column (by family prefix) that one model has and the other
    lacks, or whose type differs: training rows must carry exactly the vector scoring sees.
-#}
{% test same_feature_columns(model, compare_model, prefixes=['prod_', 'sell_', 'cons_', 'rep_']) %}
{%- set problems = [] -%}
{%- if execute -%}
    {%- set ours = {} -%}
    {%- set theirs = {} -%}
    {%- for col in adapter.get_columns_in_relation(model) -%}
        {%- do ours.update({col.name | lower: col.dtype | lower}) -%}
    {%- endfor -%}
    {%- for col in adapter.get_columns_in_relation(compare_model) -%}
        {%- do theirs.update({col.name | lower: col.dtype | lower}) -%}
    {%- endfor -%}
    {%- for name in (ours.keys() | list) + (theirs.keys() | list) -%}
        {%- set ns = namespace(feature=false) -%}
        {%- for p in prefixes -%}{%- if name.startswith(p) -%}{%- set ns.feature = true -%}{%- endif -%}{%- endfor -%}
        {%- if ns.feature and (name not in ours or name not in theirs) -%}
            {%- do problems.append(name ~ ' missing in ' ~ ('model' if name not in ours else 'compare_model')) -%}
        {%- elif ns.feature and ours[name] != theirs[name] -%}
            {%- do problems.append(name ~ ' type ' ~ ours[name] ~ ' vs ' ~ theirs[name]) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endif %}
select problem
from (values ('none'){% for p in problems | unique %}, ('{{ p }}'){% endfor %}) as t(problem)
where problem <> 'none'
{% endtest %}

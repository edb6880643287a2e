{#- Fails when the model's row count lies outside [min_value, max_value] (max may be omitted). -#}
{% test row_count_in_range(model, min_value=1, max_value=none) %}
select count(*) as n_rows
from {{ model }}
having count(*) < {{ min_value }}
{%- if max_value is not none %} or count(*) > {{ max_value }}{% endif %}
{% endtest %}

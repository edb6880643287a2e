{#-
    Fails on rows whose non-null value lies outside [min_value, max_value] (either bound may be
    omitted). strict_min makes the lower bound exclusive, for "> 0" rules.
-#}
{% test value_in_range(model, column_name, min_value=none, max_value=none, strict_min=false) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
  and (
    false
    {% if min_value is not none %}
    or {{ column_name }} {{ '<=' if strict_min else '<' }} {{ min_value }}
    {% endif %}
    {% if max_value is not none %}
    or {{ column_name }} > {{ max_value }}
    {% endif %}
  )
{% endtest %}

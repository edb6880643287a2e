{#-
    Small building blocks of the feature SQL. Windowed features are expanded from the project
    vars (feature_windows, reporter_types, report_reasons, *_text_cues) through the feature spec
    (macros/feature_spec.sql), so adding a window or a reason is a one-line change in
    dbt_project.yml, not copy-pasted SQL.

    Point in time: every feature is computed for an (entity, as_of) pair and only looks at events
    strictly before as_of. The callers join events with `event_time < as_of`; in_window() then
    narrows to the last N days before as_of.
-#}

{#- The windows every windowed feature is expanded over: the configured days, then 'all'. -#}
{% macro feature_windows() %}
    {{ return(var('feature_windows') + ['all']) }}
{% endmacro %}

{#- Column name suffix of a window: 7 -> 7d, 'all' -> all. -#}
{% macro window_suffix(window) -%}
    {{ 'all' if window == 'all' else window ~ 'd' }}
{%- endmacro %}

{#- SQL predicate: event time ts lies in the window ending at as_of (events are already < as_of). -#}
{% macro in_window(ts, as_of, window) -%}
    {%- if window == 'all' -%}
        true
    {%- else -%}
        {{ ts }} >= {{ as_of }} - interval {{ window }} day
    {%- endif -%}
{%- endmacro %}

{#- Fractional days from a to b (b later), as DOUBLE. -#}
{% macro days_between(a, b) -%}
    (date_diff('second', {{ a }}, {{ b }}) / 86400.0)
{%- endmacro %}

{#- numerator / denominator as DOUBLE, NULL when the denominator is 0 or NULL. -#}
{% macro safe_divide(numerator, denominator) -%}
    (({{ numerator }})::double / nullif(({{ denominator }})::double, 0))
{%- endmacro %}

{#- Per cue of a cues var (listing_text_cues, review_text_cues): 1 if its pattern matches the
    text, else 0; as a dict cue -> SQL expression. -#}
{% macro text_cue_flags(text_expr, cues_var) %}
    {%- set flags = {} -%}
    {%- for name, cue in var(cues_var).items() -%}
        {%- do flags.update({name: "coalesce(regexp_matches(" ~ text_expr ~ ", '" ~ cue['pattern'] | replace("'", "''") ~ "')::int, 0)"}) -%}
    {%- endfor -%}
    {{ return(flags) }}
{% endmacro %}

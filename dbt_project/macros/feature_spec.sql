{#-
    The feature spec (vars `features` and `feature_models` in dbt_project.yml) in Jinja: expanded
    exactly as scripts/feature_spec.py expands it for the generated docs, and rendered to SQL.

    dbt's Jinja cannot read files, so project vars are where one declaration can reach both the
    macros and the YAML generator. Expansion: an entry inherits the keys of the group and blocks
    it sits in; `for_each` repeats it (or its block) once per value of one placeholder, and
    {placeholder} / {placeholder:about} are filled in every string. Aggregates (`measure`,
    `per`, `days_since`) and derived ratios (`ratio_of`) become SQL here; bespoke features name
    the model that computes them (`computed_by`) and are only declared.
-#}

{#- The [value, about] pairs of a for_each source: a literal list, or a var (a list, or a
    mapping: its keys, about = the value or its `about`); feature_windows gives 7d .. all. -#}
{% macro feature_dimension(source) %}
    {%- set pairs = [] -%}
    {%- if source is string and source == 'feature_windows' -%}
        {%- for w in feature_windows() -%}
            {%- set s = window_suffix(w) -%}
            {%- do pairs.append([s, s]) -%}
        {%- endfor -%}
    {%- elif source is string and var(source) is mapping -%}
        {%- for k, v in var(source).items() -%}
            {%- do pairs.append([k ~ '', (v['about'] if v is mapping else v) ~ '']) -%}
        {%- endfor -%}
    {%- else -%}
        {%- for v in (var(source) if source is string else source) -%}
            {%- do pairs.append([v ~ '', v ~ '']) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(pairs) }}
{% endmacro %}

{#- Append every feature the entries declare to `out`, in order (recursive over blocks). -#}
{% macro expand_feature_entries(entries, inherited, bindings, out) %}
    {%- for entry in entries -%}
        {%- set ctx = {} -%}
        {%- do ctx.update(inherited) -%}
        {%- for k, v in entry.items() if k not in ('features', 'for_each') -%}
            {%- do ctx.update({k: v}) -%}
        {%- endfor -%}
        {%- if (entry.get('for_each') or {}) | length > 1 -%}
            {{ exceptions.raise_compiler_error('feature spec: one placeholder per for_each, nest blocks for more: ' ~ entry) }}
        {%- endif -%}
        {%- set values = [] -%}
        {%- for key, source in (entry.get('for_each') or {}).items() -%}
            {%- for pair in feature_dimension(source) -%}{%- do values.append({key: pair}) -%}{%- endfor -%}
        {%- endfor -%}
        {%- for extra in (values or [{}]) -%}
            {%- set bound = {} -%}
            {%- do bound.update(bindings) -%}
            {%- do bound.update(extra) -%}
            {%- if entry.get('features') -%}
                {%- do expand_feature_entries(entry['features'], ctx, bound, out) -%}
            {%- else -%}
                {#- Placeholders filled inline rather than by a macro call per value: macro
                    calls dominate the parse time of this expansion. -#}
                {%- set feature = {} -%}
                {%- for k, v in ctx.items() -%}
                    {%- set is_list = v is iterable and v is not string and v is not mapping -%}
                    {%- set items = v if is_list else [v] -%}
                    {%- set filled = [] -%}
                    {%- for item in items -%}
                        {%- set ns = namespace(value=item) -%}
                        {%- if item is string and '{' in item -%}
                            {%- for key, pair in bound.items() -%}
                                {%- set ns.value = ns.value.replace('{' ~ key ~ ':about}', pair[1]).replace('{' ~ key ~ '}', pair[0]) -%}
                            {%- endfor -%}
                        {%- endif -%}
                        {%- do filled.append(ns.value) -%}
                    {%- endfor -%}
                    {%- do feature.update({k: filled if is_list else filled[0]}) -%}
                {%- endfor -%}
                {%- if 'window' in bound -%}{%- do feature.update({'window': bound['window'][0]}) -%}{%- endif -%}
                {%- do out.append(feature) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
{% endmacro %}

{#- The features of one spec group at one grain ('listing' or 'seller'), in column order.
    None at parse time: parsing only needs a model's refs and config, and expanding the spec
    for every model there would add seconds to every `dbt parse` (no feature macro refs). -#}
{% macro feature_group(group, grain) %}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set out = [] -%}
    {%- for g in var('features') if g['group'] == group -%}
        {%- do expand_feature_entries([g], {}, {}, out) -%}
    {%- endfor -%}
    {%- set kept = [] -%}
    {%- for f in out if grain in f['grains'] -%}{%- do kept.append(f) -%}{%- endfor -%}
    {%- if not kept -%}
        {{ exceptions.raise_compiler_error('feature spec: no group ' ~ group ~ ' at grain ' ~ grain) }}
    {%- endif -%}
    {{ return(kept) }}
{% endmacro %}

{#- The feature columns of a model of var feature_models, in order; a column carried from
    another model under a prefix has `carried_from` and `source_name` (carried_only: just
    those, without expanding the rest). -#}
{% macro feature_model_columns(model, carried_only=false) %}
    {%- set models = var('feature_models') -%}
    {%- set layout = models[model] -%}
    {%- if layout.get('same_as') -%}{{ return(feature_model_columns(layout['same_as'], carried_only)) }}{%- endif -%}
    {%- set columns = [] -%}
    {%- for part in layout['parts'] if part is mapping or not carried_only -%}
        {%- if part is mapping -%}
            {%- for f in feature_model_columns(part['model']) if f.get('window') not in part.get('drop_windows', []) -%}
                {%- set carried = {} -%}
                {%- do carried.update(f) -%}
                {%- do carried.update({'name': part.get('prefix', '') ~ f['name'], 'source_name': f['name'], 'carried_from': part['model']}) -%}
                {%- do columns.append(carried) -%}
            {%- endfor -%}
        {%- elif part in models -%}
            {%- do columns.extend(feature_model_columns(part)) -%}
        {%- else -%}
            {%- do columns.extend(feature_group(part, layout['grain'])) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(columns) }}
{% endmacro %}

{#-
    SQL of a feature with `measure` (one aggregate call) or `days_since`, over the rows of its
    event set joined to a spine with as_of. The window (on the event set's time column) and
    `filter` become the aggregate's FILTER; `per` is filtered by the window and `per_filter`.
-#}
{% macro feature_aggregate(f, as_of='as_of') %}
    {%- set window_filters = [] -%}
    {%- if f.get('window') and f['window'] != 'all' -%}
        {%- set time = f['event_sets'][f['events']] -%}
        {%- if not time -%}
            {{ exceptions.raise_compiler_error(f['name'] ~ ': event set ' ~ f['events'] ~ ' has no time column to window') }}
        {%- endif -%}
        {%- do window_filters.append(in_window(time, as_of, f['window'][:-1] | int)) -%}
    {%- endif -%}
    {%- set filters = window_filters + ([f['filter']] if f.get('filter') else []) -%}
    {%- set where = (' filter (where ' ~ filters | join(' and ') ~ ')') if filters else '' -%}
    {%- set per_filters = window_filters + ([f['per_filter']] if f.get('per_filter') else []) -%}
    {%- set per_where = (' filter (where ' ~ per_filters | join(' and ') ~ ')') if per_filters else '' -%}
    {%- if f.get('days_since') -%}
        {%- set expr = days_between(f['days_since'] ~ where, 'any_value(' ~ as_of ~ ')') -%}
    {%- elif f.get('per') -%}
        {%- set expr = safe_divide(f['measure'] ~ where, f['per'] ~ per_where) -%}
    {%- elif f.get('measure') -%}
        {%- set expr = f['measure'] ~ where -%}
    {%- else -%}
        {{ exceptions.raise_compiler_error(f['name'] ~ ': no measure, per or days_since in the feature spec') }}
    {%- endif -%}
    {%- if f.get('default') is not none -%}{%- set expr = 'coalesce(' ~ expr ~ ', ' ~ f['default'] ~ ')' -%}{%- endif -%}
    {#- Standard cast(), not DuckDB's `::`, so the generated SQL ports to other engines. -#}
    {%- if f.get('cast') -%}{%- set expr = 'cast(' ~ expr ~ ' as ' ~ f['cast'] ~ ')' -%}{%- endif -%}
    {{ return(expr) }}
{% endmacro %}

{#- "aggregate as name" for each feature (of feature_group) that aggregates `events`. -#}
{% macro feature_aggregates(features, events, as_of='as_of') %}
    {%- set cols = [] -%}
    {%- for f in features if f.get('events') == events and not f.get('ratio_of') -%}
        {%- do cols.append(feature_aggregate(f, as_of) ~ ' as ' ~ f['name']) -%}
    {%- endfor -%}
    {%- if execute and not cols -%}
        {{ exceptions.raise_compiler_error('feature spec: no aggregate over event set ' ~ events) }}
    {%- endif -%}
    {{ return(cols) }}
{% endmacro %}

{#-
    "expression as name" of a feature in a select over already aggregated relations: `ratio_of`
    divides two columns, qualified by the keys of `aliases` (relation aliases); an aggregate is
    read from the alias of its event set, with its `default` when that relation has no row.
-#}
{% macro feature_select(f, aliases) %}
    {%- if f.get('ratio_of') -%}
        {%- set operands = [] -%}
        {%- for operand in f['ratio_of'] -%}
            {%- set q = operand.split('.', 1) -%}
            {%- do operands.append(aliases[q[0]] ~ '.' ~ q[1]) -%}
        {%- endfor -%}
        {%- set expr = safe_divide(operands[0], operands[1]) -%}
    {%- else -%}
        {%- set expr = aliases[f['events']] ~ '.' ~ f['name'] -%}
        {%- if f.get('default') is not none -%}{%- set expr = 'coalesce(' ~ expr ~ ', ' ~ f['default'] ~ ')' -%}{%- endif -%}
    {%- endif -%}
    {{ return(expr ~ ' as ' ~ f['name']) }}
{% endmacro %}

{#- "expression as name" for each feature (see feature_select). -#}
{% macro feature_selects(features, aliases) %}
    {%- set cols = [] -%}
    {%- for f in features -%}{%- do cols.append(feature_select(f, aliases)) -%}{%- endfor -%}
    {{ return(cols) }}
{% endmacro %}

{#-
    "expression as name" for every feature column of a model of var feature_models, in the
    spec's order (see feature_select): the model's select list is the spec, so its columns
    cannot drift from the docs. aliases: relation alias of each event set / group.
-#}
{% macro feature_model_selects(model, aliases) %}
    {{ return(feature_selects(feature_model_columns(model), aliases)) }}
{% endmacro %}

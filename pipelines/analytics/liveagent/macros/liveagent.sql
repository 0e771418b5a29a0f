{# Staging views land in <dataset>_stg (dlt's own merge staging is <dataset>_staging), marts in
   <dataset>_analytics, beside the raw dataset; vars stg_schema and analytics_schema name them
   otherwise. dbt applies a package's own generate_schema_name to the package's models, so this
   holds in a root project that installs the package too. #}
{% macro generate_schema_name(custom_schema_name, node) -%}
  {%- if custom_schema_name is none -%}{{ target.schema }}
  {%- else -%}{{ var(custom_schema_name | trim ~ '_schema', none)
                 or var('source_dataset_name', target.schema) ~ '_' ~ custom_schema_name | trim }}
  {%- endif -%}
{%- endmacro %}

{# Account-local wall time of a UTC timestamp (a timestamp without zone); `zone`: an SQL
   expression naming another zone. #}
{% macro local_time(column, zone=none) -%}
  ({{ column }} at time zone {{ zone or "'" ~ (var("timezone") | replace("'", "''")) ~ "'" }})
{%- endmacro %}

{# The instant a wall time `seconds` after local midnight of `date_column` is in `zone` (an SQL
   expression); 86400 is the next midnight. A wall time that a daylight-saving jump skips is
   read with the offset before the jump, as Postgres, DuckDB and Python's zoneinfo do. #}
{% macro local_instant(date_column, seconds, zone) -%}
  ((cast({{ date_column }} as timestamp) + {{ seconds }} * interval '1 second') at time zone {{ zone }})
{%- endmacro %}

{# Account-local date of a UTC timestamp. #}
{% macro local_date(column) -%}
  cast({{ local_time(column) }} as date)
{%- endmacro %}

{# The UTC instant an account-local day ends (the next day's local midnight). #}
{% macro local_day_end(date_column) -%}
  (cast({{ date_column }} + 1 as timestamp) at time zone '{{ var("timezone") | replace("'", "''") }}')
{%- endmacro %}

{# Whole seconds from one timestamp to another. #}
{% macro seconds_between(start, finish) -%}
  cast(extract(epoch from ({{ finish }})) - extract(epoch from ({{ start }})) as bigint)
{%- endmacro %}

{% macro median(expression) -%}
  {%- if target.type == 'postgres' -%}
    percentile_cont(0.5) within group (order by {{ expression }})
  {%- else -%}
    median({{ expression }})
  {%- endif -%}
{%- endmacro %}

{# "Now" for the marts: var as_of, else the time of the dbt run. #}
{% macro as_of() -%}
  {%- if var('as_of') -%}cast('{{ var("as_of") }}' as timestamp with time zone)
  {%- else -%}current_timestamp{%- endif -%}
{%- endmacro %}

{# Account-local days from `first` to `last` (date expressions), one row each: date_day. #}
{% macro days_between(first, last) -%}
  {%- if target.type == 'postgres' -%}
    select cast(d as date) as date_day
    from generate_series(cast({{ first }} as timestamp), cast({{ last }} as timestamp), interval '1 day') as d
  {%- else -%}
    select cast(unnest(generate_series(cast({{ first }} as timestamp), cast({{ last }} as timestamp), interval 1 day)) as date) as date_day
  {%- endif -%}
{%- endmacro %}

{# LEFT JOIN of the labels lookup for one coded column, as `alias`. #}
{% macro join_label(alias, table_name, column_name, code) -%}
  left join {{ source('liveagent', 'labels') }} as {{ alias }}
    on {{ alias }}.table_name = '{{ table_name }}' and {{ alias }}.column_name = '{{ column_name }}'
    and {{ alias }}.code = {{ code }}
{%- endmacro %}

{# Rows still in LiveAgent, unless var include_deleted. #}
{% macro live(alias) -%}
  {%- if var('include_deleted') -%}true{%- else -%}{{ alias }}._liveagent_deleted_at is null{%- endif -%}
{%- endmacro %}

{# The relation of an opt-in table, or none when it was never loaded. #}
{% macro optional_source(table_name) -%}
  {%- if not execute -%}{{ return(none) }}{%- endif -%}
  {%- set relation = adapter.get_relation(database=target.database,
        schema=var('source_dataset_name'), identifier=table_name) -%}
  {{ return(relation) }}
{%- endmacro %}

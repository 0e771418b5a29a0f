{# Business hours, from var `business_hours` (the same record as the connector's
   [sources.liveagent.business_hours]):
     {timezone: <IANA zone, default var timezone>,
      hours: {mon: ["08:00-17:00", ...], ..., sun: [...]},   days not listed are closed
      holidays: ["YYYY-MM-DD", ...],                          closed all day
      departments: {<department id>: {timezone, hours, holidays}}}  missing keys: the top level's
   No var (or no `hours`): open 24/7 in the account's zone, so business time is calendar time.
   A conversation is measured with its department's schedule when one is given, else 'default'. #}

{% macro _business_days() -%}
  {{ return({'mon': 1, 'tue': 2, 'wed': 3, 'thu': 4, 'fri': 5, 'sat': 6, 'sun': 7}) }}
{%- endmacro %}

{# The schedules as a list of {id, timezone, intervals: [(isodow, open second, close second)],
   holidays: [date text]}, 'default' first. #}
{% macro business_schedules() -%}
  {%- set config = var('business_hours', none) or {} -%}
  {%- set top = {'timezone': config.get('timezone') or var('timezone'),
                 'hours': config.get('hours'), 'holidays': config.get('holidays') or []} -%}
  {%- set schedules = [business_schedule('default', top)] -%}
  {%- for department_id, own in (config.get('departments') or {}).items() -%}
    {%- set merged = {'timezone': own.get('timezone') or top.timezone,
                      'hours': own.get('hours') if own.get('hours') is not none else top.hours,
                      'holidays': own.get('holidays') if own.get('holidays') is not none
                                  else top.holidays} -%}
    {%- do schedules.append(business_schedule(department_id | string, merged)) -%}
  {%- endfor -%}
  {{ return(schedules) }}
{%- endmacro %}

{% macro business_schedule(schedule_id, spec) -%}
  {%- set days = _business_days() -%}
  {%- set intervals = [] -%}
  {%- if spec.hours is none -%}
    {%- for isodow in range(1, 8) -%}{%- do intervals.append((isodow, 0, 86400)) -%}{%- endfor -%}
  {%- else -%}
    {%- for day, ranges in spec.hours.items() -%}
      {%- if day | lower not in days -%}
        {{ exceptions.raise_compiler_error("business_hours: unknown day '" ~ day ~ "' (mon ... sun)") }}
      {%- endif -%}
      {%- for text in ranges -%}
        {%- set ends = text.split('-') -%}
        {%- if ends | length != 2 -%}
          {{ exceptions.raise_compiler_error("business_hours: '" ~ text ~ "' is not HH:MM-HH:MM") }}
        {%- endif -%}
        {%- set open_at = ends[0].strip().split(':') -%}
        {%- set close_at = ends[1].strip().split(':') -%}
        {%- set open_second = open_at[0] | int * 3600 + open_at[1] | int * 60 -%}
        {%- set close_second = close_at[0] | int * 3600 + close_at[1] | int * 60 -%}
        {%- if not (0 <= open_second < close_second <= 86400) -%}
          {{ exceptions.raise_compiler_error("business_hours: '" ~ text ~ "' must open before it closes, within the day") }}
        {%- endif -%}
        {%- do intervals.append((days[day | lower], open_second, close_second)) -%}
      {%- endfor -%}
    {%- endfor -%}
  {%- endif -%}
  {{ return({'id': schedule_id, 'timezone': spec.timezone, 'intervals': intervals,
             'holidays': spec.holidays}) }}
{%- endmacro %}

{# One row per weekly open interval: schedule_id, timezone, isodow (1 = Monday), open_second,
   close_second (seconds after local midnight; 86400 = the next midnight). A schedule without
   any interval keeps one row with NULL times, so it still has a zone and a calendar. #}
{% macro business_interval_rows() -%}
  {%- set rows = [] -%}
  {%- for schedule in business_schedules() -%}
    {%- for isodow, open_second, close_second in schedule.intervals or [(none, none, none)] -%}
      {%- do rows.append("(" ~ _text(schedule.id) ~ ", " ~ _text(schedule.timezone) ~ ", "
            ~ (isodow if isodow is not none else 'null') ~ ", "
            ~ (open_second if open_second is not none else 'null') ~ ", "
            ~ (close_second if close_second is not none else 'null') ~ ")") -%}
    {%- endfor -%}
  {%- endfor -%}
  select cast(schedule_id as {{ dbt.type_string() }}) as schedule_id,
         cast(timezone as {{ dbt.type_string() }}) as timezone,
         cast(isodow as integer) as isodow,
         cast(open_second as integer) as open_second,
         cast(close_second as integer) as close_second
  from (values {{ rows | join(', ') }}) as weekly (schedule_id, timezone, isodow, open_second, close_second)
{%- endmacro %}

{# One row per holiday: schedule_id, holiday (a date in the schedule's zone). #}
{% macro business_holiday_rows() -%}
  {%- set rows = [] -%}
  {%- for schedule in business_schedules() -%}
    {%- for day in schedule.holidays -%}
      {%- do rows.append("(" ~ _text(schedule.id) ~ ", " ~ _text(day) ~ ")") -%}
    {%- endfor -%}
  {%- endfor -%}
  {%- if rows -%}
  select cast(schedule_id as {{ dbt.type_string() }}) as schedule_id, cast(holiday as date) as holiday
  from (values {{ rows | join(', ') }}) as closed (schedule_id, holiday)
  {%- else -%}
  select cast(null as {{ dbt.type_string() }}) as schedule_id, cast(null as date) as holiday
  where 1 = 0
  {%- endif -%}
{%- endmacro %}

{# The schedule a department's conversations are measured with. #}
{% macro business_schedule_of(department_column) -%}
  {%- set own = [] -%}
  {%- for schedule in business_schedules() if schedule.id != 'default' -%}
    {%- do own.append(_text(schedule.id)) -%}
  {%- endfor -%}
  {%- if own -%}
  case when {{ department_column }} in ({{ own | join(', ') }}) then {{ department_column }} else 'default' end
  {%- else -%}
  'default'
  {%- endif -%}
{%- endmacro %}

{% macro _text(value) -%}
  '{{ value | string | replace("'", "''") }}'
{%- endmacro %}

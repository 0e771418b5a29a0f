{# LiveAgent's own report rows (report_* tables), one row per account-local day, dimension and
   member: dimension 'account' (report_performance, its buckets of a day or less summed per
   day), 'agent' (report_agents), 'department', 'channel', 'tag'. `sums` are added up,
   `averages` are {column: weight column}: a day of several buckets weighs each bucket's mean
   by its count. A report table that was never loaded gives no rows. #}
{% macro report_rows(sums, averages={}) -%}
  {%- set branches = [] -%}
  {%- set dimensions = [
        ('account', 'report_performance', "cast(null as " ~ dbt.type_string() ~ ")",
         "cast(null as " ~ dbt.type_string() ~ ")"),
        ('agent', 'report_agents', 'r.id', "trim(concat(coalesce(r.firstname, ''), ' ', coalesce(r.lastname, '')))"),
        ('department', 'report_departments', 'r.id', 'r.department_name'),
        ('channel', 'report_channels', 'r.id', 'r.channel_name'),
        ('tag', 'report_tags', 'r.id', 'r.tag_name')] -%}
  {%- for dimension, table_name, member_id, member_name in dimensions -%}
    {%- set relation = optional_source(table_name) -%}
    {%- if relation -%}
      {%- set branch -%}
    select r.report_date as date_day, '{{ dimension }}' as dimension,
           cast({{ member_id }} as {{ dbt.type_string() }}) as member_id,
           cast({{ member_name }} as {{ dbt.type_string() }}) as member_name,
           {%- for column in sums %}
           cast(sum(r.{{ column }}) as bigint) as {{ column }},
           {%- endfor %}
           {%- for column, weight in averages.items() %}
           case when count(*) = 1 then cast(max(r.{{ column }}) as double precision)
                else sum(r.{{ column }} * r.{{ weight }}) / nullif(sum(r.{{ weight }}), 0)
           end as {{ column }},
           {%- endfor %}
           count(*) as report_rows
    from {{ relation }} as r
    {% if dimension == 'account' -%}
    -- buckets of a day or less (hour, day); week and month buckets span several days
    where r.dateto < r.datetime + interval '1 day'
    {% endif -%}
    group by r.report_date{% if dimension != 'account' %}, {{ member_id }}, {{ member_name }}{% endif %}
      {%- endset -%}
      {%- do branches.append(branch) -%}
    {%- endif -%}
  {%- endfor -%}
  {%- if branches -%}
    {{ branches | join('\n    union all\n') }}
  {%- else -%}
    select cast(null as date) as date_day, cast(null as {{ dbt.type_string() }}) as dimension,
           cast(null as {{ dbt.type_string() }}) as member_id,
           cast(null as {{ dbt.type_string() }}) as member_name,
           {%- for column in sums %} cast(null as bigint) as {{ column }},{% endfor %}
           {%- for column in averages %} cast(null as double precision) as {{ column }},{% endfor %}
           0 as report_rows
    where 1 = 0
  {%- endif -%}
{%- endmacro %}

{# Every account-local day from the first conversation or report day (`reported`: a CTE of
   report_rows) to as_of's day: date_day, and is_partial_day for as_of's own day, which is
   still running. #}
{% macro report_day_spine(reported) -%}
    select spine.date_day, spine.date_day = {{ local_date(as_of()) }} as is_partial_day
    from ({{ days_between(
        "(select min(first_day) from (select min(created_date) as first_day from "
        ~ ref('stg_liveagent__conversations') ~ " union all select min(date_day) from "
        ~ reported ~ ") as firsts)",
        local_date(as_of())) }}) as spine
{%- endmacro %}

{# A mart of report figures per day, dimension and member (report_rows with `sums` and
   `averages`), `figures` [(column alias, expression over r)], joined to the day spine: a day
   the reports do not cover keeps one 'account' row with report_covered false and NULL figures. #}
{% macro daily_report_mart(sums, averages, figures) -%}
with reported as (
    {{ report_rows(sums, averages) }}
),

days as (
    {{ report_day_spine('reported') }}
),

covered as (
    select distinct date_day from reported where dimension = 'account'
)

select
    d.date_day, d.is_partial_day, r.dimension, r.member_id, r.member_name,
    {%- for alias, expression in figures %}
    {{ expression }} as {{ alias }},
    {%- endfor %}
    true as report_covered
from reported as r
join days as d on d.date_day = r.date_day

union all

select
    d.date_day, d.is_partial_day, 'account', null, null,
    {%- for alias, expression in figures %} null,{% endfor %}
    false
from days as d
where not exists (select 1 from covered as c where c.date_day = d.date_day)
{%- endmacro %}

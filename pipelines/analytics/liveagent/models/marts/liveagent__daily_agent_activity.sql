-- Each agent's working day, from LiveAgent's agents report: minutes online, answers and
-- answers per online hour, chats and calls. A day the report does not cover keeps one row
-- without an agent and with report_covered false; as_of's own day is marked partial.
{% set agents_report = optional_source('report_agents') %}
with reported as (
    {% if agents_report %}
    select report_date as date_day, id as agent_id,
           trim(concat(coalesce(firstname, ''), ' ', coalesce(lastname, ''))) as agent_name,
           worktime, answers, answers_ph, chats, calls
    from {{ agents_report }}
    {% else %}
    select cast(null as date) as date_day, cast(null as {{ dbt.type_string() }}) as agent_id,
           cast(null as {{ dbt.type_string() }}) as agent_name, cast(null as bigint) as worktime,
           cast(null as bigint) as answers, cast(null as double precision) as answers_ph,
           cast(null as bigint) as chats, cast(null as bigint) as calls
    where 1 = 0
    {% endif %}
),

days as (
    {{ report_day_spine('reported') }}
)

select
    d.date_day, d.is_partial_day, r.agent_id, r.agent_name,
    cast(r.worktime as bigint) as work_minutes,
    cast(r.answers as bigint) as answers,
    cast(r.answers_ph as double precision) as answers_per_hour,
    cast(r.chats as bigint) as chats,
    cast(r.calls as bigint) as calls,
    true as report_covered
from reported as r
join days as d on d.date_day = r.date_day

union all

select d.date_day, d.is_partial_day, null, null, null, null, null, null, null, false
from days as d
where not exists (select 1 from reported as r where r.date_day = d.date_day)

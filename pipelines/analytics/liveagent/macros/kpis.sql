{# The daily KPIs of events (int_liveagent__conversation_events joined to a dimension), grouped
   by event_date and `keys`. Times in seconds; *_business_seconds count only the open time of
   the business hours of each conversation's department. #}
{% macro daily_kpis(keys, new_conversations=true) -%}
    event_date as date_day,
    {% for key in keys %}{{ key }},{% endfor %}
    {% if new_conversations -%}
    cast(sum(case when event_type = 'created' then 1 else 0 end) as bigint)
    {%- else -%}cast(null as bigint){%- endif %} as new_conversations,
    cast(sum(case when event_type = 'answer' then 1 else 0 end) as bigint) as answers,
    cast(sum(case when event_type = 'resolved' then 1 else 0 end) as bigint) as resolved,
    cast(sum(case when event_type = 'first_response' then 1 else 0 end) as bigint) as first_responses,
    {{ median("case when event_type = 'first_response' then seconds end") }}
        as median_first_response_seconds,
    avg(case when event_type = 'first_response' then seconds end) as avg_first_response_seconds,
    {{ median("case when event_type = 'first_response' then business_seconds end") }}
        as median_first_response_business_seconds,
    avg(case when event_type = 'first_response' then business_seconds end)
        as avg_first_response_business_seconds,
    cast(sum(case when event_type = 'first_resolve' then 1 else 0 end) as bigint) as first_resolutions,
    avg(case when event_type = 'first_resolve' then seconds end) as avg_first_resolution_seconds,
    avg(case when event_type = 'first_resolve' then business_seconds end)
        as avg_first_resolution_business_seconds,
    cast(sum(case when event_type = 'next_response' then 1 else 0 end) as bigint) as next_responses,
    avg(case when event_type = 'next_response' then seconds end) as avg_next_response_seconds,
    avg(case when event_type = 'next_response' then business_seconds end)
        as avg_next_response_business_seconds
{%- endmacro %}

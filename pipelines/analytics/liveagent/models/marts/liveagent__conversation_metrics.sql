-- One row per conversation (still in LiveAgent): response and resolution times, in calendar
-- seconds and in business hours (the schedule of its department, var business_hours),
-- replies, reopens, first and current department, agent and channel, and the SLA outcome.
{% set details = optional_source('conversation_details') %}
with conversations as (
    select * from {{ ref('stg_liveagent__conversations') }}
),

messages as (
    select m.*,
           min(m.created_at) over (partition by m.conversation_id) as first_message_at
    from {{ ref('stg_liveagent__messages') }} as m
),

message_counts as (
    select
        conversation_id,
        sum(case when is_answer then 1 else 0 end) as agent_replies,
        sum(case when is_customer_message then 1 else 0 end) as customer_messages,
        sum(case when is_customer_message and created_at > first_message_at then 1 else 0 end)
            as customer_replies,
        sum(case when is_note then 1 else 0 end) as notes,
        max(case when is_answer then created_at end) as last_answer_at
    from messages
    group by 1
),

last_answer as (
    select conversation_id, user_id as agent_id,
           row_number() over (partition by conversation_id
                              order by created_at desc, user_id desc, message_id desc) as position
    from messages
    where is_answer
),

first_response as (
    select conversation_id, event_at as first_response_at, agent_id, seconds, business_seconds
    from {{ ref('int_liveagent__conversation_events') }}
    where event_type = 'first_response'
),

first_resolve as (
    select conversation_id, seconds, business_seconds
    from {{ ref('int_liveagent__conversation_events') }}
    where event_type = 'first_resolve'
),

resolves as (
    select g.conversation_id, g.created_at,
           lead(g.created_at) over (partition by g.conversation_id order by g.created_at)
               as next_resolve_at
    from {{ ref('stg_liveagent__message_groups') }} as g
    where g.is_resolve
),

reopened as (
    -- a reopen: a customer wrote after a resolve (and before the next one)
    select r.conversation_id, r.created_at,
           exists (
               select 1 from messages as m
               where m.conversation_id = r.conversation_id and m.is_customer_message
                 and m.created_at > r.created_at
                 and (r.next_resolve_at is null or m.created_at < r.next_resolve_at)
           ) as was_reopened
    from resolves as r
),

resolve_counts as (
    select
        conversation_id,
        count(*) as resolutions,
        min(created_at) as first_resolved_at,
        max(created_at) as last_resolved_at,
        sum(case when was_reopened then 1 else 0 end) as reopen_count
    from reopened
    group by 1
),

first_version as (
    select conversation_id, department_id, channel_type,
           row_number() over (partition by conversation_id order by valid_from) as position
    from {{ ref('stg_liveagent__status_history') }}
),

agents as (
    select * from {{ ref('stg_liveagent__agents') }}
),

departments as (
    select * from {{ ref('stg_liveagent__departments') }}
),

metrics as (
    select
        c.*,
        fr.first_response_at,
        {{ local_date('fr.first_response_at') }} as first_response_date,
        fr.seconds as first_response_seconds,
        fr.business_seconds as first_response_business_seconds,
        frs.seconds as first_resolution_seconds,
        frs.business_seconds as first_resolution_business_seconds,
        {{ business_schedule_of('c.department_id') }} as business_hours_schedule,
        fr.agent_id as first_agent_id,
        {% if details %}d.assignedto{% else %}la.agent_id{% endif %} as current_agent_id,
        coalesce(fv.department_id, c.department_id) as first_department_id,
        coalesce(fv.channel_type, c.channel_type) as first_channel_type,
        case when c.is_resolved then coalesce(rc.last_resolved_at, c.changed_at) end
            as resolved_at,
        rc.first_resolved_at,
        cast(coalesce(rc.resolutions, 0) as bigint) as resolutions,
        cast(coalesce(rc.reopen_count, 0) as bigint) as reopen_count,
        cast(coalesce(mc.agent_replies, 0) as bigint) as agent_replies,
        cast(coalesce(mc.customer_replies, 0) as bigint) as customer_replies,
        cast(coalesce(mc.customer_messages, 0) as bigint) as customer_messages,
        cast(coalesce(mc.notes, 0) as bigint) as notes
    from conversations as c
    left join message_counts as mc on mc.conversation_id = c.conversation_id
    left join first_response as fr on fr.conversation_id = c.conversation_id
    left join first_resolve as frs on frs.conversation_id = c.conversation_id
    left join last_answer as la on la.conversation_id = c.conversation_id and la.position = 1
    left join resolve_counts as rc on rc.conversation_id = c.conversation_id
    left join first_version as fv on fv.conversation_id = c.conversation_id and fv.position = 1
    {% if details %}
    left join {{ details }} as d on d.conversationid = c.conversation_id
    {% endif %}
)

select
    m.conversation_id, m.code, m.subject,
    m.status, m.status_label, m.is_open, m.is_resolved,
    m.channel_type, m.channel_label,
    m.first_channel_type, first_channel_label.label as first_channel_label,
    m.department_id, m.department_name,
    m.first_department_id, first_department.department_name as first_department_name,
    m.current_agent_id, current_agent.agent_name as current_agent_name,
    m.first_agent_id, first_agent.agent_name as first_agent_name,
    m.owner_name, m.owner_email,
    m.created_at, m.created_at_local, m.created_date,
    m.first_response_at, {{ local_time('m.first_response_at') }} as first_response_at_local,
    m.first_response_date, m.first_response_seconds, m.first_response_business_seconds,
    m.first_resolved_at, m.first_resolution_seconds, m.first_resolution_business_seconds,
    m.resolved_at, {{ local_time('m.resolved_at') }} as resolved_at_local,
    {{ seconds_between('m.created_at', 'm.resolved_at') }} as full_resolution_seconds,
    resolved_clock.business_clock - created_clock.business_clock
        as full_resolution_business_seconds,
    m.business_hours_schedule,
    m.resolutions, m.reopen_count,
    m.agent_replies, m.customer_replies, m.customer_messages, m.notes,
    m.due_at, m.due_at_local, m.due_date,
    -- the SLA, as LiveAgent's SLA compliance report counts it (by due day): met when the first
    -- answer came by the due time; breached when it came later, or has not come and the due
    -- time has passed (var as_of, default now); pending while unanswered and not yet due
    case
        when m.due_at is null then null
        when m.first_response_at is not null and m.first_response_at <= m.due_at then 'met'
        when m.first_response_at is not null or m.due_at < {{ as_of() }} then 'breached'
        else 'pending'
    end as sla_status,
    case
        when m.due_at is null then null
        when m.first_response_at is not null then m.first_response_at > m.due_at
        when m.due_at < {{ as_of() }} then true
    end as sla_breached,
    m.changed_at, m.deleted_at
from metrics as m
left join agents as current_agent on current_agent.agent_id = m.current_agent_id
left join agents as first_agent on first_agent.agent_id = m.first_agent_id
left join departments as first_department on first_department.department_id = m.first_department_id
left join {{ ref('int_liveagent__business_clock') }} as created_clock
    on created_clock.schedule_id = m.business_hours_schedule and created_clock.measured_at = m.created_at
left join {{ ref('int_liveagent__business_clock') }} as resolved_clock
    on resolved_clock.schedule_id = m.business_hours_schedule and resolved_clock.measured_at = m.resolved_at
{{ join_label('first_channel_label', 'conversations', 'channel_type', 'm.first_channel_type') }}

-- Spans of each conversation's state, from its creation on: [span_from, span_to), span_to NULL
-- while it lasts. From the first observed version on, the status history (basis 'observed');
-- before it, what the messages show (basis 'reconstructed'): open from creation until the
-- first resolve. History only starts with the pipeline's first look at a conversation.
with conversations as (
    select conversation_id, created_at from {{ ref('stg_liveagent__conversations') }}
),

history as (
    select h.* from {{ ref('stg_liveagent__status_history') }} as h
    join conversations as c on c.conversation_id = h.conversation_id
),

first_seen as (
    select conversation_id, min(valid_from) as first_observed_at from history group by 1
),

first_resolve as (
    select conversation_id, min(created_at) as first_resolved_at
    from {{ ref('stg_liveagent__message_groups') }}
    where is_resolve
    group by 1
),

reconstructed as (
    select
        c.conversation_id,
        c.created_at as span_from,
        case
            when r.first_resolved_at is null then f.first_observed_at
            when f.first_observed_at is null then r.first_resolved_at
            when r.first_resolved_at < f.first_observed_at then r.first_resolved_at
            else f.first_observed_at
        end as span_to
    from conversations as c
    left join first_seen as f on f.conversation_id = c.conversation_id
    left join first_resolve as r on r.conversation_id = c.conversation_id
)

select conversation_id, span_from, span_to, true as is_open, 'reconstructed' as basis
from reconstructed
where span_to is null or span_to > span_from

union all

select conversation_id, valid_from, valid_to, is_open, 'observed'
from history

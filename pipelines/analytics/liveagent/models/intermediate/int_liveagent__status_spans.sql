-- Spans of each conversation's state, from its creation on: [span_from, span_to), span_to NULL
-- while it lasts. From the first observed version on, the status history (basis 'observed');
-- a conversation the history has no row for (loaded before the history existed, and unchanged
-- since) is observed as its row is: its status since its datechanged. Before that, what the
-- messages show (basis 'reconstructed'): open from creation until the first resolve; nothing
-- for a conversation without a creation time. History only starts with the pipeline's first
-- look at a conversation.
with conversations as (
    select conversation_id, created_at, changed_at, status, is_open
    from {{ ref('stg_liveagent__conversations') }}
),

recorded as (
    select h.conversation_id, h.valid_from, h.valid_to, h.is_open
    from {{ ref('stg_liveagent__status_history') }} as h
    join conversations as c on c.conversation_id = h.conversation_id
),

history as (
    select * from recorded
    union all
    select c.conversation_id, c.changed_at, cast(null as timestamp with time zone), c.is_open
    from conversations as c
    where not exists (select 1 from recorded as r where r.conversation_id = c.conversation_id)
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
    where c.created_at is not null
)

select conversation_id, span_from, span_to, true as is_open, 'reconstructed' as basis
from reconstructed
where span_to is null or span_to > span_from

union all

select conversation_id, valid_from, valid_to, is_open, 'observed'
from history

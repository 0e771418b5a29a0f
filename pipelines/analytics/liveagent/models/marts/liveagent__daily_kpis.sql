-- The account's KPIs per account-local day: new conversations, answers, resolutions (resolve
-- groups) and first responses with their median and mean seconds, as LiveAgent's reports
-- count them (see the README's "Analyst layer" for where they may differ).
select {{ daily_kpis([]) }}
from {{ ref('int_liveagent__conversation_events') }}
group by event_date

-- Chats and calls per account-local day, from LiveAgent's own reports: for the whole account
-- (report_performance) and per agent, department, channel and tag; times in seconds, 0 where
-- the report had none to average. A day the reports do not cover keeps one 'account' row with
-- report_covered false and no figures; as_of's own day is marked partial.
{{ daily_report_mart(
    ['chats', 'missed_chats', 'chat_pickup', 'calls', 'missed_calls', 'call_seconds'],
    {'chat_pickup_avg_time': 'chat_pickup', 'chat_avg_time': 'chat_pickup',
     'call_pickup_avg_time': 'calls', 'call_avg_time': 'calls'},
    [('chats', 'r.chats'),
     ('missed_chats', 'r.missed_chats'),
     ('chat_pickups', 'r.chat_pickup'),
     ('avg_chat_pickup_seconds', 'r.chat_pickup_avg_time'),
     ('avg_chat_seconds', 'r.chat_avg_time'),
     ('calls', 'r.calls'),
     ('missed_calls', 'r.missed_calls'),
     ('avg_call_pickup_seconds', 'r.call_pickup_avg_time'),
     ('call_seconds', 'r.call_seconds'),
     ('avg_call_seconds', 'r.call_avg_time')]) }}

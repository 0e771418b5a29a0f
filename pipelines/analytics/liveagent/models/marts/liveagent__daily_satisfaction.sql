-- Ratings per account-local day, from LiveAgent's own reports: for the whole account
-- (report_performance) and per agent, department, channel and tag. A day the reports do not
-- cover keeps one 'account' row with report_covered false and no figures; as_of's own day is
-- marked partial.
{{ daily_report_mart(
    ['resolved_tickets', 'rewards', 'punishments', 'not_ranked'], {},
    [('resolved', 'r.resolved_tickets'),
     ('positive', 'r.rewards'),
     ('negative', 'r.punishments'),
     ('unrated', 'r.not_ranked'),
     ('rated_share', 'case when r.resolved_tickets > 0 then cast(r.resolved_tickets - r.not_ranked as double precision) / r.resolved_tickets end'),
     ('positive_share', 'case when r.rewards + r.punishments > 0 then cast(r.rewards as double precision) / (r.rewards + r.punishments) end')]) }}

-- Departments: API v1 has no list of them, so they come from the conversations (the name on the
-- latest changed one) and, for a department without conversations, the departments report.
with named as (
    select departmentid as department_id, departmentname as department_name,
           1 as preference, datechanged as seen_at
    from {{ source('liveagent', 'conversations') }}
    where departmentid is not null
    union all
    select id, department_name, 2, {{ local_day_end('report_date') }}
    from {{ source('liveagent', 'report_departments') }}
),

ranked as (
    select department_id, department_name,
           row_number() over (partition by department_id
                              order by preference, seen_at desc, department_name) as position
    from named
)

select department_id, department_name from ranked where position = 1

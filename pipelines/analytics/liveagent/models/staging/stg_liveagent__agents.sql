-- Every agent the warehouse has seen, removed ones too (is_removed): their past work stays theirs.
select
    a.id as agent_id,
    trim(coalesce(a.firstname, '') || ' ' || coalesce(a.lastname, '')) as agent_name,
    a.firstname as first_name,
    a.lastname as last_name,
    a.email,
    a.role,
    role_label.label as role_label,
    a.gender,
    gender_label.label as gender_label,
    a._liveagent_deleted_at is not null as is_removed
from {{ source('liveagent', 'agents') }} as a
{{ join_label('role_label', 'agents', 'role', 'a.role') }}
{{ join_label('gender_label', 'agents', 'gender', 'a.gender') }}

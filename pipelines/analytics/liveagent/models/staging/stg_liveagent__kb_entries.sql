-- Knowledge-base entries with their labels.
select
    e.kb_entry_id, e.kb_id, e.parent_entry_id, e.title,
    e.rtype, rtype_label.label as rtype_label,
    e.rstatus, rstatus_label.label as rstatus_label,
    e.access, access_label.label as access_label,
    e.deleted = 'Y' as is_deleted_in_liveagent,
    e.views, e.votes,
    e.datecreated as created_at, {{ local_time('e.datecreated') }} as created_at_local,
    e.datechanged as changed_at, {{ local_time('e.datechanged') }} as changed_at_local
from {{ source('liveagent', 'kb_entries') }} as e
{{ join_label('rtype_label', 'kb_entries', 'rtype', 'e.rtype') }}
{{ join_label('rstatus_label', 'kb_entries', 'rstatus', 'e.rstatus') }}
{{ join_label('access_label', 'kb_entries', 'access', 'e.access') }}
where {{ live('e') }}

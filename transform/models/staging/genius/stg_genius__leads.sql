with leads as (
    {{ current_rows(source('genius', 'leads'), 'lead_id') }}
)

select
    lead_id,
    -- The prospect the lead was copied to (Genius' own link).
    copied_to_id as prospect_id,
    added_on as added_at,
    source as marketing_source_id,
    status as lead_status_id
from leads

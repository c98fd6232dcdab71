with trackers as (
    {{ current_rows(source('callrail', 'trackers'), 'id') }}
)

select
    id as tracker_id,
    name as tracker_name,
    type as tracker_type,
    source ->> 'type' as tracker_source_type
from trackers

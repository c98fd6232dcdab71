with appointments as (
    {{ current_rows(source('genius', 'appointments'), 'id') }}
)

select
    id as appointment_id,
    prospect_id,
    prospect_source_id,
    -- Genius keeps the date and the time apart, without a zone.
    ((date + coalesce(time, time '00:00')) at time zone '{{ var("genius_time_zone") }}')
        as scheduled_at,
    is_complete = 1 as is_complete,
    complete_outcome_id as outcome_id,
    complete_date as completed_at,
    add_date as booked_at
from appointments
where date is not null

with calls as (
    {{ current_rows(source('callrail', 'calls'), 'id') }}
)

select
    id as call_id,
    account_id,
    company_id,
    start_time as started_at,
    customer_phone_number as caller_phone,
    customer_phone_number_e164 as caller_phone_e164,
    customer_name as caller_name,
    person_id,
    direction,
    answered,
    first_call,
    duration as duration_seconds,
    source,
    medium,
    campaign,
    tracker_id,
    lead_status
from calls

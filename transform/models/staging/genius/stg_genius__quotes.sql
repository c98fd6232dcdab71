with quotes as (
    {{ current_rows(source('genius', 'quotes'), 'id') }}
)

select
    id as quote_id,
    prospect_id,
    appointment_id,
    amount,
    add_date as quoted_at
from quotes

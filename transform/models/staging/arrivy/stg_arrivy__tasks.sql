with tasks as (
    {{ current_rows(source('arrivy', 'tasks'), 'id') }}
)

select
    id as task_id,
    customer_id,
    start_datetime as started_at,
    status,
    status = 'COMPLETE' as is_completed,
    customer_phone_e164,
    customer_mobile_number_e164,
    case when customer_email_valid then customer_email_normalized end as customer_email_normalized
from tasks
where not coalesce(unscheduled, false)

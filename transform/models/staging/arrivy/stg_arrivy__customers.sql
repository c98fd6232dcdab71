with customers as (
    {{ current_rows(source('arrivy', 'customers'), 'id') }}
)

select
    id as customer_id,
    phone_e164,
    mobile_number_e164,
    case when email_valid then email_normalized end as email_normalized
from customers

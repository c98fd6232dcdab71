with prospects as (
    {{ current_rows(source('genius', 'prospects'), 'id') }}
)

select
    id as prospect_id,
    add_date as created_at,
    first_name,
    last_name,
    phone1_e164,
    phone2_e164,
    case when email_valid then email_normalized end as email_normalized,
    division_id
from prospects

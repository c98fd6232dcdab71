with forms as (
    {{ current_rows(source('callrail', 'form_submissions'), 'id') }}
)

select
    id as form_submission_id,
    account_id,
    person_id,
    submitted_at,
    customer_name,
    -- Only an address that looks like one: "n/a" or "name@" must not join anybody.
    case when customer_email_valid then customer_email_normalized end as email_normalized,
    customer_phone_number_e164 as phone_e164
from forms

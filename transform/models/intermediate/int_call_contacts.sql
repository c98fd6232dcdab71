-- How a call can be traced to a person: the caller's normalised number, and the e-mail of
-- any web form the same CallRail person sent (person_id).
with calls as (
    select * from {{ ref('stg_callrail__calls') }}
),

forms as (
    select * from {{ ref('stg_callrail__form_submissions') }}
)

select call_id, started_at, 'phone' as contact_kind, caller_phone_e164 as contact
from calls
where caller_phone_e164 is not null
union
select calls.call_id, calls.started_at, 'email', forms.email_normalized
from calls
inner join forms on forms.person_id = calls.person_id and forms.account_id = calls.account_id
where forms.email_normalized is not null

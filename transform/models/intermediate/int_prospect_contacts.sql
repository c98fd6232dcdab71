-- Every way to reach a prospect: its normalised phones and its e-mail, one row each.
with prospects as (
    select * from {{ ref('stg_genius__prospects') }}
)

select prospect_id, created_at, 'phone' as contact_kind, phone1_e164 as contact
from prospects where phone1_e164 is not null
union
select prospect_id, created_at, 'phone', phone2_e164
from prospects where phone2_e164 is not null
union
select prospect_id, created_at, 'email', email_normalized
from prospects where email_normalized is not null

-- The Genius prospect each call became (docs/funnel.md): at most one per call.
--   1. A phone match (the caller's E.164 is one of the prospect's) beats an e-mail match.
--   2. Only a prospect created within the window counts: at most `call_days_before_prospect`
--      (30) days after the call, at most `call_days_after_prospect` (1) before it. A call long
--      before the prospect existed, or from a prospect created long before, produced nothing.
--   3. Among the rest, the prospect created nearest in time to the call, then the lower id.
with call_contacts as (
    select * from {{ ref('int_call_contacts') }}
),

prospect_contacts as (
    select * from {{ ref('int_prospect_contacts') }}
),

candidates as (
    select distinct
        call_contacts.call_id,
        prospect_contacts.prospect_id,
        call_contacts.contact_kind as matched_on,
        prospect_contacts.created_at as prospect_created_at,
        abs(extract(epoch from prospect_contacts.created_at - call_contacts.started_at))
            as seconds_apart
    from call_contacts
    inner join prospect_contacts
        on prospect_contacts.contact_kind = call_contacts.contact_kind
        and prospect_contacts.contact = call_contacts.contact
    where call_contacts.started_at
        >= prospect_contacts.created_at - interval '{{ var("call_days_before_prospect") }} days'
        and call_contacts.started_at
        <= prospect_contacts.created_at + interval '{{ var("call_days_after_prospect") }} days'
),

ranked as (
    select
        candidates.*,
        row_number() over (
            partition by call_id
            order by
                case matched_on when 'phone' then 0 else 1 end,
                seconds_apart,
                prospect_id
        ) as preference
    from candidates
)

select call_id, prospect_id, matched_on, prospect_created_at
from ranked
where preference = 1

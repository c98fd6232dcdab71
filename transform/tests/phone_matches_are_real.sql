-- A phone match is a real one: the caller's E.164 is one of the prospect's phones.
select funnel.call_id, funnel.caller_phone_e164, prospects.phone1_e164, prospects.phone2_e164
from {{ ref('lead_funnel') }} as funnel
inner join {{ ref('stg_genius__prospects') }} as prospects
    on prospects.prospect_id = funnel.prospect_id
where funnel.matched_on = 'phone'
    and funnel.caller_phone_e164 is distinct from prospects.phone1_e164
    and funnel.caller_phone_e164 is distinct from prospects.phone2_e164

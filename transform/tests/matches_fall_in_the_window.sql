-- No call is matched to a prospect created outside the window around it, and no appointment
-- or task of the funnel comes before its call.
select funnel.call_id
from {{ ref('lead_funnel') }} as funnel
left join {{ ref('stg_genius__prospects') }} as prospects
    on prospects.prospect_id = funnel.prospect_id
where (
        funnel.prospect_id is not null
        and (
            funnel.call_started_at
            < prospects.created_at - interval '{{ var("call_days_before_prospect") }} days'
            or funnel.call_started_at
            > prospects.created_at + interval '{{ var("call_days_after_prospect") }} days'
        )
    )
    or funnel.time_to_appointment < interval '0'
    or funnel.time_to_task < interval '0'

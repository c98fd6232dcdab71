-- Every current call in the funnel exactly once, and nothing else.
with calls as (
    select call_id from {{ ref('stg_callrail__calls') }}
),

funnel as (
    select call_id, count(*) as rows_of_call from {{ ref('lead_funnel') }} group by call_id
)

select coalesce(calls.call_id, funnel.call_id) as call_id, funnel.rows_of_call
from calls
full outer join funnel on funnel.call_id = calls.call_id
where funnel.call_id is null or calls.call_id is null or funnel.rows_of_call <> 1

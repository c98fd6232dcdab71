-- Which marketing produced jobs: per month of the call and per source (CallRail's source of
-- the call, Genius' marketing source of the prospect it became), the calls, the prospects
-- they became, their appointments, sales and completed crew tasks, with the rates between.
with funnel as (
    select * from {{ ref('lead_funnel') }}
)

select
    date_trunc('month', call_started_at at time zone '{{ var("reporting_time_zone") }}')::date
        as month,
    coalesce(source, '(none)') as callrail_source,
    coalesce(marketing_source, '(no prospect)') as genius_marketing_source,
    count(*) as calls,
    count(prospect_id) as matched_prospects,
    count(appointment_id) as appointments,
    count(*) filter (where is_sold) as sales,
    count(*) filter (where is_task_completed) as completed_tasks,
    round(count(prospect_id)::numeric / count(*), 4) as match_rate,
    round(count(appointment_id)::numeric / nullif(count(prospect_id), 0), 4) as appointment_rate,
    round(
        (count(*) filter (where is_sold))::numeric / nullif(count(appointment_id), 0), 4
    ) as close_rate,
    round((count(*) filter (where is_sold))::numeric / count(*), 4) as call_to_sale_rate
from funnel
group by 1, 2, 3

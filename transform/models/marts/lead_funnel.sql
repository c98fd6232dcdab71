-- One row per CallRail call: the marketing that made it, the Genius prospect the caller
-- became (int_call_prospect_matches), the prospect's first appointment at or after the call,
-- whether it was sold (a quote on it), and the Arrivy crew task for that customer: the first
-- one starting at or after the call whose customer has one of the prospect's phones or its
-- e-mail.
with calls as (
    select * from {{ ref('stg_callrail__calls') }}
),

trackers as (
    select * from {{ ref('stg_callrail__trackers') }}
),

matches as (
    select * from {{ ref('int_call_prospect_matches') }}
),

leads as (
    select prospect_id, min(lead_id) as lead_id
    from {{ ref('stg_genius__leads') }}
    where prospect_id is not null
    group by prospect_id
),

appointments as (
    select * from {{ ref('stg_genius__appointments') }}
),

first_appointments as (
    select distinct on (calls.call_id)
        calls.call_id,
        appointments.appointment_id,
        appointments.scheduled_at,
        appointments.outcome_id,
        appointments.prospect_source_id
    from calls
    inner join matches on matches.call_id = calls.call_id
    inner join appointments
        on appointments.prospect_id = matches.prospect_id
        and appointments.scheduled_at >= calls.started_at
    order by calls.call_id, appointments.scheduled_at, appointments.appointment_id
),

sold as (
    select distinct appointment_id from {{ ref('stg_genius__quotes') }}
),

prospect_contacts as (
    select * from {{ ref('int_prospect_contacts') }}
),

task_contacts as (
    select * from {{ ref('int_task_contacts') }}
),

first_tasks as (
    select distinct on (calls.call_id)
        calls.call_id,
        task_contacts.task_id,
        task_contacts.started_at
    from calls
    inner join matches on matches.call_id = calls.call_id
    inner join prospect_contacts on prospect_contacts.prospect_id = matches.prospect_id
    inner join task_contacts
        on task_contacts.contact_kind = prospect_contacts.contact_kind
        and task_contacts.contact = prospect_contacts.contact
        and task_contacts.started_at >= calls.started_at
    order by calls.call_id, task_contacts.started_at, task_contacts.task_id
),

tasks as (
    select * from {{ ref('stg_arrivy__tasks') }}
),

outcomes as (
    select * from {{ ref('stg_genius__appointment_outcomes') }}
),

prospect_sources as (
    select * from {{ ref('stg_genius__prospect_sources') }}
),

first_prospect_sources as (
    select distinct on (prospect_id) prospect_id, prospect_source_id
    from prospect_sources
    order by prospect_id, sourced_at nulls last, prospect_source_id
)

select
    calls.call_id,
    calls.started_at as call_started_at,
    calls.caller_phone_e164,
    calls.account_id,
    calls.source,
    calls.medium,
    calls.campaign,
    calls.tracker_id,
    trackers.tracker_name,
    matches.prospect_id,
    matches.matched_on,
    leads.lead_id,
    marketing.marketing_source_id,
    marketing.marketing_source,
    first_appointments.appointment_id,
    first_appointments.scheduled_at as appointment_at,
    first_appointments.outcome_id as appointment_outcome_id,
    outcomes.outcome as appointment_outcome,
    first_appointments.appointment_id is not null
        and sold.appointment_id is not null as is_sold,
    first_tasks.task_id as arrivy_task_id,
    first_tasks.started_at as task_started_at,
    tasks.status as task_status,
    coalesce(tasks.is_completed, false) as is_task_completed,
    first_appointments.scheduled_at - calls.started_at as time_to_appointment,
    first_tasks.started_at - calls.started_at as time_to_task
from calls
left join trackers on trackers.tracker_id = calls.tracker_id
left join matches on matches.call_id = calls.call_id
left join leads on leads.prospect_id = matches.prospect_id
left join first_appointments on first_appointments.call_id = calls.call_id
left join sold on sold.appointment_id = first_appointments.appointment_id
left join outcomes on outcomes.outcome_id = first_appointments.outcome_id
left join first_prospect_sources on first_prospect_sources.prospect_id = matches.prospect_id
left join prospect_sources as marketing
    on marketing.prospect_source_id
    = coalesce(first_appointments.prospect_source_id, first_prospect_sources.prospect_source_id)
left join first_tasks on first_tasks.call_id = calls.call_id
left join tasks on tasks.task_id = first_tasks.task_id

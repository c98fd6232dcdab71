with outcomes as (
    {{ current_rows(source('genius', 'appointment_outcomes'), 'id') }}
),

outcome_types as (
    {{ current_rows(source('genius', 'appointment_outcome_types'), 'id') }}
)

select
    outcomes.id as outcome_id,
    outcomes.label as outcome,
    outcome_types.label as outcome_type
from outcomes
left join outcome_types on outcome_types.id = outcomes.type_id

with prospect_sources as (
    {{ current_rows(source('genius', 'prospect_sources'), 'id') }}
),

marketing_sources as (
    {{ current_rows(source('genius', 'marketing_sources'), 'id') }}
)

select
    prospect_sources.id as prospect_source_id,
    prospect_sources.prospect_id,
    prospect_sources.marketing_source_id,
    marketing_sources.label as marketing_source,
    prospect_sources.source_date as sourced_at
from prospect_sources
left join marketing_sources on marketing_sources.id = prospect_sources.marketing_source_id

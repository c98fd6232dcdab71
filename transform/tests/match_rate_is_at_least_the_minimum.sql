-- The share of calls matched to a prospect is at least var `min_match_rate` (0 by default;
-- the sandbox sets what its story guarantees, so a broken normalisation or join shows).
select count(prospect_id)::numeric / nullif(count(*), 0) as match_rate
from {{ ref('lead_funnel') }}
having count(prospect_id)::numeric / nullif(count(*), 0) < {{ var('min_match_rate') }}

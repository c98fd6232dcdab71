{#- The current row per key of a raw table, deleted rows left out. target-warehouse upserts,
    so there is one row per key already; an append-only load (or a future history mode)
    has several, and the latest extraction wins. -#}
{% macro current_rows(relation, key) -%}
    select *
    from (
        select
            raw.*,
            row_number() over (
                partition by {{ key }}
                order by raw._sdc_extracted_at desc nulls last, raw._sdc_sequence desc nulls last
            ) as _version_rank
        from {{ relation }} as raw
    ) as versions
    where _version_rank = 1 and _sdc_deleted_at is null
{%- endmacro %}

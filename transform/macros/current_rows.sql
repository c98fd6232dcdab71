{#- The current row per key of a raw table, deleted rows left out. A stream target-warehouse
    loads in history mode has a `<table>__current` view of its current versions: that is
    read. Otherwise the table itself: an upsert has one row per key already; an append-only
    load has several, and the latest extraction wins. -#}
{% macro current_rows(relation, key) -%}
    {%- set current_view = none -%}
    {%- if execute -%}
        {%- set current_view = adapter.get_relation(
            database=relation.database,
            schema=relation.schema,
            identifier=relation.identifier ~ '__current'
        ) -%}
    {%- endif -%}
    {%- if current_view is not none -%}
    select raw.*, 1 as _version_rank
    from {{ current_view }} as raw
    where _sdc_deleted_at is null
    {%- else -%}
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
    {%- endif -%}
{%- endmacro %}

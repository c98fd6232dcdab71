{#- No two rows share these columns' values (dbt_utils has one; the project keeps to
    dbt-core, so `dbt build` needs no package download). -#}
{% test unique_combination_of_columns(model, columns) %}
select {{ columns | join(', ') }}
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}

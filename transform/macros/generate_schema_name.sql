{#- Models go to the schema they name (staging, analytics), not <target>_<name>: the
    warehouse has one set of answers, and its users look for them by these names. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ (custom_schema_name or target.schema) | trim }}
{%- endmacro %}

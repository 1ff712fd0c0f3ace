{% macro currency_label() -%}
    '{{ var("currency") }}'
{%- endmacro %}

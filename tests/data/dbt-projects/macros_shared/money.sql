{% macro net_amount(amount, fee) -%}
    ({{ amount }} - coalesce({{ fee }}, 0))
{%- endmacro %}

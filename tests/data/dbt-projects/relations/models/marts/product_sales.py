def model(dbt, session):
    dbt.config(materialized="table")
    orders = dbt.ref("stg_orders")
    products = dbt.ref("stg_products")
    joined = orders.join(products, "product_id")
    return joined.aggregate(
        "product_name, count(*) as orders, sum(amount) as revenue", "product_name"
    )

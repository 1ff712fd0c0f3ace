select * from (values (1, 10, 25.0, date '2026-01-02'), (2, 11, 40.0, date '2026-01-02'))
    as t(order_id, customer_id, amount, order_date)

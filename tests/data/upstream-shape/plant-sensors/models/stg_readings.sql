select * from (values (1, 'line-a', 20.5), (2, 'line-a', 21.0), (3, 'line-b', 19.0))
    as t(reading_id, line, celsius)

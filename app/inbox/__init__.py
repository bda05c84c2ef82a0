"""The durable inbox: updates accepted from Meta, in Redis Streams partitioned by person."""

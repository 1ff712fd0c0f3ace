"""Spark compute: the jars, the SparkSession with floe's Iceberg catalog, the Spark run path."""

"""csqm: customer-service quality management lake on Spark + Delta Lake."""
__version__ = "0.1.0"

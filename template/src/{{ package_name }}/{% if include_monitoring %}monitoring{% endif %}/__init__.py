"""Drift monitoring: Spark-native statistics, the HTML report and the alert webhook.

Generated only when the project chose monitoring; the `monitor` task uses it.
"""

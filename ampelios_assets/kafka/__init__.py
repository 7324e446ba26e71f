"""Ingest events from a Kafka topic: decoding, consuming, the ingest run and the sensor."""

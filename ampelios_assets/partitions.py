"""Sites are kept apart by source_id: every asset is partitioned by it."""

from dagster import DynamicPartitionsDefinition

source_partitions = DynamicPartitionsDefinition(name="source_id")

"""Start segmentation runs in the background and report their status.

Each trigger gets its run id at once and the run executes in a thread of
the server process with Dagster's in-process executor, on the instance in
DAGSTER_HOME. This needs no Dagster daemon: `instance.submit_run` on the
embedded default instance would only queue the run, and nothing would
dequeue it without `dagster-daemon` running beside the server.

Runs execute one at a time per server process, so a trigger for another
source waits as queued until the current run ends. Two in-process
executions at once deadlock in dagster 1.13.27: each run start reconfigures
Python logging (logging.config.dictConfig) while the other run's event log
handler holds its handler lock and waits for the logging module lock.

A trigger for a source that has an unfinished run is rejected with
RUN_IN_PROGRESS rather than queued, and the caller decides when to retry.
Unfinished runs are those launched by this server and those on the
instance for the source's partition, which include `ampelios run` and
materialisations from the Dagster UI.
NOTE: `ampelios run` and the Dagster UI do not check for unfinished runs
themselves, so they can still start a run beside one from the API.
"""

from __future__ import annotations

import logging
import threading

from dagster._core.utils import make_new_run_id

from ampelios_api.errors import ApiError
from ampelios_assets.run_status import UNFINISHED_DAGSTER_STATUSES, RunStatus, read_run_status, source_run_ids
from ampelios_assets.runs import RunRequest, add_source_partition, dagster_instance, run_segmentation
from ampelios_assets.settings import Settings

logger = logging.getLogger(__name__)

# Held by the thread whose run is executing; see the module docstring.
_EXECUTION_LOCK = threading.Lock()


class RunLauncher:
    """Starts runs in daemon threads and remembers the ones Dagster has not recorded yet."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.Lock()
        self._run_id_by_source: dict[int, str] = {}
        self._source_by_pending_run: dict[str, int] = {}
        self._error_by_failed_launch: dict[str, str] = {}

    def launch(self, request: RunRequest) -> str:
        """Register the source's partition, start its run in the background and return the run id."""
        with self._lock:
            with dagster_instance(self.settings) as instance:
                self._reject_if_running(instance, request.source_id)
                add_source_partition(instance, request.source_id)
            run_id = make_new_run_id()
            self._run_id_by_source[request.source_id] = run_id
            self._source_by_pending_run[run_id] = request.source_id

        thread = threading.Thread(
            target=self._execute, args=(request, run_id), name=f"ampelios-run-{run_id[:8]}", daemon=True
        )
        thread.start()
        logger.info(
            "accepted run %s for source_id %s on %s (cluster_count %s); it starts when no other run is going",
            run_id, request.source_id, request.events_path.name, request.cluster_count,
        )
        return run_id

    def status(self, run_id: str) -> RunStatus | None:
        """Return the run's status; a run launched here that Dagster has not recorded yet is queued."""
        with dagster_instance(self.settings) as instance:
            recorded = read_run_status(instance, run_id)
        if recorded is not None:
            return recorded
        with self._lock:
            source_id = self._source_by_pending_run.get(run_id)
            error = self._error_by_failed_launch.get(run_id)
        if source_id is None:
            return None
        return RunStatus(
            run_id=run_id,
            source_id=source_id,
            status="failure" if error else "queued",
            current_step=None,
            counts={},
            error=error,
            started_at=None,
            finished_at=None,
        )

    def fail_unfinished_runs(self) -> list[str]:
        """Mark the runs still executing in this process as failed, and return their ids.

        The server calls this when it stops: its run threads die with the
        process, and a run left started on the instance would block its
        source's triggers for good.
        """
        with self._lock:
            run_ids = list(self._run_id_by_source.values())
        failed = []
        with dagster_instance(self.settings) as instance:
            for run_id in run_ids:
                run = instance.get_run_by_id(run_id)
                if run is None or run.status not in UNFINISHED_DAGSTER_STATUSES:
                    continue
                instance.report_run_failed(run, message="the API server stopped before the run finished; trigger it again")
                logger.warning("marked run %s for source_id %s failed because the server is stopping", run_id, run.tags.get("dagster/partition"))
                failed.append(run_id)
        return failed

    def _reject_if_running(self, instance, source_id: int) -> None:
        running = self._run_id_by_source.get(source_id)
        if running is None:
            unfinished = source_run_ids(instance, source_id, unfinished_only=True)
            running = unfinished[0] if unfinished else None
        if running is not None:
            # NOTE: a run left unfinished by a server killed without a shutdown (SIGKILL, power loss)
            # blocks its source until the run is terminated or deleted in the Dagster UI.
            raise ApiError(
                "RUN_IN_PROGRESS",
                f"source_id {source_id} already has run {running} in progress; "
                "poll it with the GraphQL run query (or watch it in the Dagster UI) and trigger again when it has finished",
            )

    def _execute(self, request: RunRequest, run_id: str) -> None:
        try:
            with _EXECUTION_LOCK:
                result = run_segmentation(self.settings, request, log_level="WARNING", run_id=run_id)
        except Exception as error:  # noqa: BLE001 - the thread has no caller to raise to
            logger.exception("run %s for source_id %s failed before Dagster recorded it", run_id, request.source_id)
            with self._lock:
                self._error_by_failed_launch[run_id] = str(error) or type(error).__name__
        else:
            if result.success:
                visitors = result.metadata.get("journeys", {}).get("visitors")
                logger.info("run %s for source_id %s succeeded: %s visitors", run_id, request.source_id, visitors)
            else:
                logger.warning("run %s for source_id %s failed: %s", run_id, request.source_id, result.error)
        finally:
            with self._lock:
                if self._run_id_by_source.get(request.source_id) == run_id:
                    del self._run_id_by_source[request.source_id]


"""A throwaway PostgreSQL server from Debian's packages, on 127.0.0.1 and a free port.

initdb refuses to run as root, so as root the server runs as the `postgres`
user that the Debian package creates, in a directory handed over to it.
"""

from __future__ import annotations

import dataclasses
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

INSTALL_HINT = "run `make test` (it installs Debian's postgresql package) or `apt-get install -y postgresql`"


def postgres_bin_dir() -> Path | None:
    """Return the newest /usr/lib/postgresql/<version>/bin holding initdb and pg_ctl, or None."""
    candidates = [
        Path(path).parent
        for path in glob.glob("/usr/lib/postgresql/*/bin/initdb")
        if Path(path).with_name("pg_ctl").exists()
    ]
    return max(candidates, key=lambda path: int(path.parent.name), default=None)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclasses.dataclass
class PostgresServer:
    bin_dir: Path
    directory: Path
    port: int
    user: str = "ampelios"

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, text=True, cwd=self.directory)

    def start(self) -> None:
        self._run(
            str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", self.user,
            "--auth=trust", "--encoding=UTF8", "--no-sync",
        )
        options = f"-h 127.0.0.1 -p {self.port} -k {self.directory} -c fsync=off -c max_connections=200"
        self._run(
            str(self.bin_dir / "pg_ctl"), "start", "-D", str(self.data_dir), "-w",
            "-l", str(self.directory / "server.log"), "-o", options,
        )

    def stop(self) -> None:
        self._run(str(self.bin_dir / "pg_ctl"), "stop", "-D", str(self.data_dir), "-m", "fast", "-w")


def start_server() -> PostgresServer:
    """Start a server in a new temporary directory; raise FileNotFoundError without the binaries."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        raise FileNotFoundError(f"no initdb and pg_ctl under /usr/lib/postgresql/*/bin; {INSTALL_HINT}")
    directory = Path(tempfile.mkdtemp(prefix="ampelios-postgres-"))
    if os.geteuid() == 0:
        postgres_user = pwd.getpwnam("postgres")
        os.chown(directory, postgres_user.pw_uid, postgres_user.pw_gid)
    server = PostgresServer(bin_dir=bin_dir, directory=directory, port=free_port())
    try:
        server.start()
    except subprocess.CalledProcessError as error:
        log = directory / "server.log"
        details = log.read_text() if log.exists() else ""
        shutil.rmtree(directory, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL failed to start: {error.stderr}{details}") from error
    return server


def stop_server(server: PostgresServer) -> None:
    server.stop()
    shutil.rmtree(server.directory, ignore_errors=True)

"""A throwaway PostgreSQL cluster for the tests: ``initdb`` into a temporary directory, a server on a
free loopback port (and a socket in that directory), stopped and removed at the end.

Nothing is shared with a PostgreSQL the machine may run: no default port, no system data directory,
trust authentication on loopback only. Durability is switched off (``fsync``, full page writes,
synchronous commit): a crash loses a test database, which is thrown away anyway.

PostgreSQL refuses to run as root, so as root the cluster runs as the ``postgres`` account that
Debian's package creates (and the data directory is given to it).

``python -m tests.support.postgres`` starts one and prints its ``DATABASE_URL`` until Ctrl-C.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.support.processes import free_port

SUPERUSER = "podstudio"
DATABASE = "podstudio"
SEARCH_DIRS = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)  # newest major version first
RUN_AS_WHEN_ROOT = "postgres"


class PostgresUnavailable(Exception):
    """PostgreSQL's server programs are not installed here (or cannot run): the message says what to do."""


def server_bin_dir() -> Path:
    """Where initdb, pg_ctl and postgres are: PATH first (Debian links the newest there), then Debian's dirs."""
    initdb = shutil.which("initdb")
    candidates = [Path(os.path.realpath(initdb)).parent] if initdb else []
    candidates += [Path(d) for d in SEARCH_DIRS]
    for directory in candidates:
        if all((directory / name).is_file() for name in ("initdb", "pg_ctl", "createdb")):
            return directory
    raise PostgresUnavailable("PostgreSQL's server (initdb, pg_ctl) is not installed: "
                              "'sudo apt-get install -y postgresql' (or 'make test' as root) installs it")


def _run_as() -> pwd.struct_passwd | None:
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(RUN_AS_WHEN_ROOT)
    except KeyError:
        raise PostgresUnavailable(f"running as root, PostgreSQL needs an account to run as: '{RUN_AS_WHEN_ROOT}' "
                                  "is missing (Debian's postgresql package creates it)") from None


class PostgresCluster:
    def __init__(self) -> None:
        self.bin_dir = server_bin_dir()
        self.account = _run_as()
        self.root = Path(tempfile.mkdtemp(prefix="podstudio-pg-"))
        self.data_dir = self.root / "data"
        self.socket_dir = self.root  # the server's Unix socket, kept out of /var/run/postgresql
        self.log = self.root / "server.log"
        self.port = 0

    @property
    def url(self) -> str:
        return f"postgres://{SUPERUSER}@127.0.0.1:{self.port}/{DATABASE}"

    def _pg(self, program: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        kwargs = {"user": self.account.pw_uid, "group": self.account.pw_gid, "extra_groups": []} if self.account else {}
        result = subprocess.run([str(self.bin_dir / program), *args], capture_output=True, text=True,
                                timeout=timeout, env={**os.environ, "LC_ALL": "C.UTF-8"}, **kwargs)
        if result.returncode != 0:
            raise PostgresUnavailable(f"{program} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")
        return result

    def start(self) -> PostgresCluster:
        try:
            self._start()
        except BaseException:
            self.stop()  # whatever was started, and the directory
            raise
        return self

    def _start(self) -> None:
        if self.account:
            # Down to the temporary directory: tempfile made it 0700 and root's.
            os.chown(self.root, self.account.pw_uid, self.account.pw_gid)
        self._pg("initdb", "-D", str(self.data_dir), "-U", SUPERUSER, "--auth=trust", "--encoding=UTF8",
                 "--locale=C.UTF-8", "--no-sync", "--no-instructions")
        options = " ".join([
            "-h 127.0.0.1", f"-k {self.socket_dir}",
            "-c fsync=off", "-c full_page_writes=off", "-c synchronous_commit=off",
            "-c max_connections=200",  # the test database, threads of concurrency tests, two server processes
        ])
        for _ in range(5):  # a port chosen free can be taken by someone else before the server binds it
            self.port = free_port()
            try:
                self._pg("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data_dir), "-l", str(self.log),
                         "-o", f"{options} -p {self.port}")
                break
            except PostgresUnavailable:
                if "could not bind" not in self.log.read_text(errors="replace"):
                    raise PostgresUnavailable(f"PostgreSQL did not start:\n{self.log.read_text()[-2000:]}") from None
        else:
            raise PostgresUnavailable("PostgreSQL found no free port in five tries")
        # pg_ctl -w returned once the server accepts connections
        self._pg("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER, DATABASE)

    def stop(self) -> None:
        try:
            if (self.data_dir / "postmaster.pid").exists():
                self._pg("pg_ctl", "stop", "-w", "-m", "immediate", "-D", str(self.data_dir))
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresCluster:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


if __name__ == "__main__":
    with PostgresCluster() as cluster:
        print(f"DATABASE_URL={cluster.url}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass

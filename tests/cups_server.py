"""A private CUPS scheduler for the printing tests: Debian's `cupsd -f` with its own
cupsd.conf and cups-files.conf in a temp folder, keeping every job's files
(PreserveJobFiles) so a test can read what arrived. The tool under test reaches it on a
free loopback port (over a Unix socket alone, `lpoptions -l` finds no printer-uri). Its
admin operations (adding, removing, pausing, rejecting queues) need an authenticated
member of SystemGroup, root: the tests make them over a Unix socket in a folder only
root may enter, where the scheduler reads the client's user from the socket (peer
credentials). Over the port, another user of the machine may list the queues, but
cannot add one, even by claiming to be root in the request.

Each pytest process (each xdist worker) starts its own, so workers share no queue, no
port and no spool. Queues print to file:///dev/null: a raw queue (no driver) or one with
a small PPD whose only filter is "-" (the PDF passes through), which lists two-sided
and media choices the way a real driver does. No filter program ever runs.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

#: CUPS commands the tests run; the scheduler and lpadmin live in /usr/sbin.
COMMANDS = ("cupsd", "lp", "lpstat", "lpoptions", "lpadmin", "cupsdisable", "cupsreject", "ipptool")
PACKAGES = "cups-daemon cups-client cups-ipp-utils"
DEADLINE = 30.0  # seconds for the scheduler to answer or a job to arrive; it takes well under 1

#: What only root may do: add, change or remove queues and classes, set the default,
#: pause, resume, reject, accept, purge.
ADMIN_OPERATIONS = (
    "CUPS-Add-Modify-Printer CUPS-Delete-Printer CUPS-Add-Modify-Class CUPS-Delete-Class "
    "CUPS-Set-Default CUPS-Accept-Jobs CUPS-Reject-Jobs Pause-Printer Resume-Printer Purge-Jobs"
)
CUPSD_CONF = """\
Listen 127.0.0.1:{port}
Listen {socket}
LogLevel warn
WebInterface No
Browsing No
DefaultAuthType None
PreserveJobFiles Yes
PreserveJobHistory Yes
<Location />
  Order allow,deny
  Allow all
</Location>
<Policy default>
  <Limit {admin}>
    AuthType Basic
    Require user @SYSTEM
    Order deny,allow
  </Limit>
  <Limit All>
    Order allow,deny
    Allow all
  </Limit>
</Policy>
"""

CUPS_FILES_CONF = """\
ServerRoot {root}
RequestRoot {root}/spool
TempDir {root}/tmp
CacheDir {root}/cache
StateDir {root}/state
DataDir /usr/share/cups
ServerBin /usr/lib/cups
DocumentRoot /usr/share/cups/doc-root
AccessLog {root}/log/access_log
ErrorLog {root}/log/error_log
PageLog {root}/log/page_log
Printcap {root}/printcap
Sandboxing Relaxed
SystemGroup root
"""

#: Get-Job-Attributes over IPP, for ipptool (-d job_id=N).
GET_JOB_TEST = """\
{
  NAME "Get-Job-Attributes"
  OPERATION Get-Job-Attributes
  GROUP operation-attributes-tag
  ATTR charset attributes-charset utf-8
  ATTR naturalLanguage attributes-natural-language en
  ATTR uri printer-uri $uri
  ATTR integer job-id $job_id
  ATTR name requesting-user-name root
  ATTR keyword requested-attributes all
  STATUS successful-ok
}
"""

#: A PostScript-printer description offering letter and A4 and two-sided printing,
#: whose filter "-" hands the PDF to the device untouched.
DUPLEX_PPD = """\
*PPD-Adobe: "4.3"
*FormatVersion: "4.3"
*FileVersion: "1.0"
*LanguageVersion: English
*LanguageEncoding: ISOLatin1
*PCFileName: "TESTDPLX.PPD"
*Manufacturer: "Test"
*Product: "(Test)"
*ModelName: "Test duplex printer"
*ShortNickName: "Test duplex printer"
*NickName: "Test duplex printer"
*PSVersion: "(3010.000) 0"
*LanguageLevel: "3"
*ColorDevice: False
*DefaultColorSpace: Gray
*FileSystem: False
*Throughput: "1"
*LandscapeOrientation: Plus90
*TTRasterizer: Type42
*cupsFilter2: "application/pdf application/pdf 0 -"
*OpenUI *PageSize/Media Size: PickOne
*OrderDependency: 10 AnySetup *PageSize
*DefaultPageSize: Letter
*PageSize Letter/US Letter: "<</PageSize[612 792]>>setpagedevice"
*PageSize A4/A4: "<</PageSize[595 842]>>setpagedevice"
*CloseUI: *PageSize
*OpenUI *PageRegion: PickOne
*OrderDependency: 10 AnySetup *PageRegion
*DefaultPageRegion: Letter
*PageRegion Letter/US Letter: "<</PageSize[612 792]>>setpagedevice"
*PageRegion A4/A4: "<</PageSize[595 842]>>setpagedevice"
*CloseUI: *PageRegion
*DefaultImageableArea: Letter
*ImageableArea Letter/US Letter: "18 18 594 774"
*ImageableArea A4/A4: "18 18 577 824"
*DefaultPaperDimension: Letter
*PaperDimension Letter/US Letter: "612 792"
*PaperDimension A4/A4: "595 842"
*OpenUI *Duplex/2-Sided Printing: PickOne
*OrderDependency: 10 AnySetup *Duplex
*DefaultDuplex: None
*Duplex None/Off: "<</Duplex false>>setpagedevice"
*Duplex DuplexNoTumble/Long-Edge: "<</Duplex true/Tumble false>>setpagedevice"
*Duplex DuplexTumble/Short-Edge: "<</Duplex true/Tumble true>>setpagedevice"
*CloseUI: *Duplex
"""


def find(name: str) -> str | None:
    """A CUPS command on PATH, or in /usr/sbin where Debian puts the admin commands."""
    path = os.environ.get("PATH", "") + os.pathsep + "/usr/sbin" + os.pathsep + "/sbin"
    return shutil.which(name, path=path)


def missing_reason() -> str | None:
    """Why the printing tests cannot run here, or None when they can."""
    missing = [name for name in COMMANDS if find(name) is None]
    if missing:
        return (
            f"CUPS is not installed ({', '.join(missing)} not found): "
            f"sudo apt-get install {PACKAGES} (make test installs them)"
        )
    if os.geteuid() != 0:
        return "the test print server runs cupsd as root (it runs its jobs as lp): run as root"
    return None


@contextmanager
def refused_address() -> Iterator[str]:
    """A loopback address where nothing answers, for as long as the block runs: a port
    bound but not listening refuses every connection, and no other process can take it."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{bound.getsockname()[1]}"


@dataclass
class CupsServer:
    """A running scheduler; `env` points CUPS clients (and the tool) at it."""

    root: Path
    port: int
    process: subprocess.Popen[bytes]

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def socket(self) -> Path:
        """Its Unix socket, in a folder only root may enter: over it the scheduler knows
        the client's user (peer credentials), which its admin operations require."""
        return self.root / "admin" / "cups.sock"

    @property
    def env(self) -> dict[str, str]:
        """For the tool under test: the scheduler's loopback port."""
        clean = {k: v for k, v in os.environ.items() if k not in ("LPDEST", "PRINTER")}
        return {**clean, "CUPS_SERVER": self.address, "LC_ALL": "C"}

    def run(self, name: str, *args: str) -> subprocess.CompletedProcess[str]:
        """A CUPS command against this server; fails the test if it fails."""
        env = {**self.env, "CUPS_SERVER": str(self.socket)}
        done = subprocess.run(
            [str(find(name)), *args], capture_output=True, text=True, env=env, check=False
        )
        assert done.returncode == 0, f"{name} {' '.join(args)}: {done.stderr}{self.log()}"
        return done

    def add_queue(self, name: str, *, duplex_driver: bool = False) -> str:
        """A queue printing to /dev/null: raw, or with the two-sided PPD."""
        args = ["-p", name, "-E", "-v", "file:///dev/null"]
        if duplex_driver:
            ppd = self.root / "duplex.ppd"
            ppd.write_text(DUPLEX_PPD)
            args += ["-P", str(ppd)]
        self.run("lpadmin", *args)
        return name

    def jobs(self) -> set[int]:
        """The number of every job the server holds (each queue, any state)."""
        listed = self.run("lpstat", "-W", "all", "-o").stdout
        return {int(m) for m in re.findall(r"^\S+-(\d+) ", listed, flags=re.MULTILINE)}

    def document(self, job: int) -> bytes:
        """The spooled document of a job, polled for until the deadline."""
        path = self.root / "spool" / f"d{job:05d}-001"
        end = time.monotonic() + DEADLINE
        while not path.is_file():
            assert time.monotonic() < end, f"job {job} never arrived{self.log()}"
            time.sleep(0.05)
        return path.read_bytes()

    def attributes(self, queue: str, job: int) -> dict[str, object]:
        """The job's attributes as the scheduler reports them over IPP (ipptool)."""
        test = self.root / "get-job.test"
        test.write_text(GET_JOB_TEST)
        uri = f"ipp://{self.address}/printers/{queue}"
        done = self.run("ipptool", "-j", "-d", f"job_id={job}", uri, str(test))
        groups = json.loads(done.stdout)
        found: dict[str, object] = next(
            g for g in groups if g.get("group-tag") == "job-attributes-tag"
        )
        return found

    def log(self) -> str:
        path = self.root / "log" / "error_log"
        return "\n" + path.read_text()[-2000:] if path.is_file() else ""

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def start_cups() -> CupsServer:
    """A fresh scheduler; a port another process took first is retried with another.
    Whatever happens while it starts (even Ctrl-C), a scheduler not handed over is stopped."""
    said = ""
    for _attempt in range(3):
        server = launch_cupsd()
        try:
            if wait_until_ready(server):
                return server
            said = server.log()
        except BaseException:
            server.stop()
            raise
        server.stop()
    raise AssertionError(f"the test print server did not start{said}")


def launch_cupsd() -> CupsServer:
    root = Path(tempfile.mkdtemp(prefix="handouts-cups-"))
    root.chmod(0o755)  # cupsd hands the spool to the lp group
    for sub in ("spool", "tmp", "cache", "state", "log", "ppd", "admin"):
        (root / sub).mkdir()
    (root / "admin").chmod(0o700)
    port = free_port()
    conf = CUPSD_CONF.format(port=port, socket=root / "admin" / "cups.sock", admin=ADMIN_OPERATIONS)
    (root / "cupsd.conf").write_text(conf)
    (root / "cups-files.conf").write_text(CUPS_FILES_CONF.format(root=root))
    command = [str(find("cupsd")), "-f", "-c", str(root / "cupsd.conf")]
    command += ["-s", str(root / "cups-files.conf")]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=die_with_parent
    )
    return CupsServer(root, port, process)


def die_with_parent() -> None:
    """In the child before cupsd starts: the kernel kills it (SIGKILL) when the pytest
    process that started it dies, so a killed xdist worker leaves no scheduler behind."""
    if sys.platform == "linux":
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def wait_until_ready(server: CupsServer) -> bool:
    """Polls `lpstat -r` until the scheduler answers; False if cupsd exits or the
    deadline passes."""
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end and server.process.poll() is None:
        done = subprocess.run(
            [str(find("lpstat")), "-r"], capture_output=True, text=True, env=server.env
        )
        if done.stdout.strip() == "scheduler is running":
            return True
        time.sleep(0.05)
    return False


@contextmanager
def silent_address() -> Iterator[str]:
    """A loopback address that takes connections (the kernel's backlog) and never
    answers, for as long as the block runs: a print server that hangs."""
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen(8)
        yield f"127.0.0.1:{listening.getsockname()[1]}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port

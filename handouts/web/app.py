"""`make-handouts serve`: the nurse-station web form (Flask app, served by waitress).

One central object, `NurseStation`, carries the clinic's workspace; the views in
views.py are plain module-level functions that reach it through `station()`.
Stateless: nothing about a patient is stored or logged; every PDF is made in memory
(and, when the clinic lists desk queues, handed to CUPS through a pipe).
Because the server renders patient data and can print, it answers only requests for its
own host names and POSTs from its own pages (views.same_origin_only), and prints only
for a form it served (the form's token, `NurseStation.form_token`).
Each server thread renders with its own Workspace (fonts, CSS, templates), so
concurrent requests share no mutable rendering state.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import secrets
import socket
import threading
from collections.abc import Iterable
from pathlib import Path

from flask import Flask, current_app

from handouts.commands.build import list_rows
from handouts.locate import data_dir
from handouts.model.request import HandoutRequest
from handouts.options import LayoutCacheOptions, ServeOptions
from handouts.stamp.handout import stamper_for
from handouts.web.addresses import own_addresses
from handouts.workspace import Workspace

MAX_BODY = 64 * 1024
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
log = logging.getLogger("handouts")


class NurseStation:
    """The clinic the form serves: its languages and handouts, and a renderer per thread."""

    def __init__(
        self, workspace: Workspace, cache: LayoutCacheOptions, hosts: Iterable[str] = ()
    ) -> None:
        self.workspace = workspace
        self.stamper = stamper_for(workspace, cache)
        self.languages = workspace.languages()
        self.language_names = [
            (lang, workspace.library.strings(lang)["language.name"]) for lang in self.languages
        ]
        self.handouts = list_rows(workspace)
        self.desk_queues = workspace.clinic.config.printing.desk_queues
        self.hosts = LOOPBACK_NAMES | {host.lower().strip("[]") for host in hosts}
        # A per-process secret: a page of another site cannot read the form, so it
        # cannot know the token a print must carry.
        self.form_token = secrets.token_hex(32)
        self._local = threading.local()

    def token_matches(self, token: str) -> bool:
        return hmac.compare_digest(token.encode(), self.form_token.encode())

    def pdf(self, request: HandoutRequest) -> bytes:
        """The handout: stamped from the layout cache when it can be (a request takes
        milliseconds), else rendered in full by this thread's own Workspace."""
        return self.thread_workspace().make_pdf(request, self.stamper).data

    def thread_workspace(self) -> Workspace:
        """This thread's own Workspace (the clinic was validated when the app started)."""
        if not hasattr(self._local, "workspace"):
            self._local.workspace = Workspace.open(self.workspace.clinic.root)
        workspace: Workspace = self._local.workspace
        return workspace


def create_app(
    source: Workspace | Path | None = None,
    cache: LayoutCacheOptions | None = None,
    hosts: Iterable[str] = (),
) -> Flask:
    """The web app; the clinic is validated now, so a bad config fails at start-up.
    `hosts`: names the browsers use for this server, besides the loopback ones."""
    from handouts.web.views import views

    workspace = source if isinstance(source, Workspace) else Workspace.open(source)
    app = Flask(
        __name__,
        template_folder=str(data_dir("templates") / "web"),
        static_folder=str(data_dir("styles") / "web"),
        static_url_path="/static",
    )
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.extensions["handouts"] = NurseStation(workspace, cache or LayoutCacheOptions(), hosts)
    app.register_blueprint(views)
    return app


def station() -> NurseStation:
    """The NurseStation of the app handling the current request."""
    found: NurseStation = current_app.extensions["handouts"]
    return found


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def warning_for(host: str) -> str | None:
    if is_loopback(host):
        return None
    return (
        f"WARNING: listening on {host}, not on this computer only. Patient data typed into "
        "the form will cross the network. Put the server behind the clinic's own "
        "authentication and TLS (HTTPS) before anyone uses it."
    )


def server_names(options: ServeOptions) -> set[str]:
    """The host names a browser may use for this server: the address it listens on, and
    on every interface this computer's own names and addresses; plus those given with
    --allow-host."""
    names = {options.host, *options.allowed_hosts}
    if options.host in ("0.0.0.0", "::"):
        names |= {socket.gethostname(), socket.getfqdn(), *own_addresses()}
    return names


def serve(workspace: Workspace, options: ServeOptions) -> None:
    import waitress

    app = create_app(workspace, options.cache, server_names(options))
    log.info("nurse station on http://%s:%d/ (Ctrl-C to stop)", options.host, options.port)
    waitress.serve(
        app, host=options.host, port=options.port, threads=options.threads, ident="handouts"
    )

"""``python -m localaws.glue``: serve the Glue-compatible API until SIGTERM/SIGINT.

Settings come from the environment (see ``localaws.glue.config``). On shutdown, job processes still
running are killed; the next start marks their runs FAILED.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading

from werkzeug.serving import make_server

from .app import GlueApp
from .config import Settings

log = logging.getLogger("localaws.glue")


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env()
    app = GlueApp(settings)
    try:
        server = make_server(settings.host, settings.port, app, threaded=True)
    except OSError as exc:
        log.error(
            "cannot listen on %s:%d (%s); set LOCALAWS_GLUE_PORT to a free port",
            settings.host,
            settings.port,
            exc,
        )
        return 1

    def stop(signum, _frame):
        log.info("signal %d: shutting down", signum)
        app.runner.shutdown()
        # shutdown() waits for serve_forever to return, so it must run off the serving thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info(
        "Glue service on http://%s:%d (state %s, AWS endpoint %s)",
        settings.host,
        settings.port,
        settings.state_dir,
        settings.aws_endpoint,
    )
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""gunicorn's settings wherever the web server is started (`make run`, the Procfile, the
benchmarks): ``gunicorn -c python:mutualaid.gunicorn_config mutualaid.wsgi:app``.

The master imports the app once and forks its workers from it (``preload_app``): a worker
that dies (kill -9, out of memory, a crash) is replaced by a fork in milliseconds instead
of seconds of imports while requests wait, and the workers share the imported code's
memory, which a cheap laptop notices. A configuration error stops the master once, with
its message, rather than every worker in turn. New code needs a restart, not a HUP.

Nothing connected may cross the fork: each worker starts its database pools afresh, as
SQLAlchemy advises for ``os.fork`` (``dispose(close=False)`` leaves the master's own
connections, if any, to the master).
"""

from __future__ import annotations

from typing import Any

preload_app = True


def post_fork(server: Any, worker: Any) -> None:
    from mutualaid.extensions import db
    from mutualaid.wsgi import app

    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)

"""The live view (`minikubelet dashboard`): the node's pods, probes, readiness, restarts and
their causes in a browser, served by the agent on loopback and updated as the node's watches
report, never by reloading.

    agent ─ DashboardListener.serve ─ uvicorn on 127.0.0.1:<free port> ─ dashboard_app
               GET /?token=T                        the page (static/index.html)
               GET /static/{app.js,style.css}?token=T
               GET /api/pods?token=T                server-sent events: the pods' Table
               GET /api/pods/NS/NAME?token=T        server-sent events: the pod, its probe
                                                    history (entries as they are written) and
                                                    its events
    CLI ─ socket ─ GET /minikubelet/v1/dashboard ─▶ {"url": "http://127.0.0.1:<port>/?token=T"}

Only this machine's user gets in: the listener binds loopback only; every request must carry
the token (made fresh by each agent, compared in constant time) and a loopback Host (no DNS
rebinding); anything else gets 401 and nothing else. Every route is a GET that changes nothing,
so another site can make the browser send nothing that matters; the page allows only its own
scripts and connections (Content-Security-Policy) and is never framed. Plain HTML, CSS and a
small script: nothing is fetched from anywhere but the agent, and nothing is built.
"""

from minikubelet.server.dashboard.listener import DashboardListener, dashboard_info
from minikubelet.server.dashboard.routes import dashboard_app

__all__ = ["DashboardListener", "dashboard_app", "dashboard_info"]

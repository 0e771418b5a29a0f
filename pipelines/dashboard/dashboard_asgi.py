"""The dashboard as Streamlit serves it: `app.py` behind a check of the `Host` header.

The server listens on loopback only, yet a web page elsewhere can still reach it through DNS
rebinding (its own name resolved to 127.0.0.1 after the page loaded): the browser then sends
that name as `Host`, and without a check the page could read the account's figures over
Streamlit's WebSocket (measured: `Host: evil.example` got 200 for the page and 101 for
`/_stcore/stream`). Streamlit's `server.allowedHosts` guards the WebSocket only, so every
request passes Starlette's `TrustedHostMiddleware` first: loopback names only, else 400.

`streamlit run` finds `app` here by reading this file (an `App(...)` assignment) and imports
it as a top-level module, so the imports are absolute.
"""

from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from streamlit.starlette import App

from pipelines.dashboard import APP, LOOPBACK_NAMES

app = App(APP, middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=LOOPBACK_NAMES,
                                      www_redirect=False)])

"""``triangulate serve``: the local web workspace (spec section 12).

:mod:`.workspace` holds the analysis in memory and saves through the same writers and state
machines as the terminal walks; :mod:`.app` is the Starlette application that only translates
requests into workspace calls and pages; :mod:`.runner` starts uvicorn and prints the URLs.
Nothing here is imported until ``serve`` runs (``--help`` stays fast and never loads the web
stack).
"""
